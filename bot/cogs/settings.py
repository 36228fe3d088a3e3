"""/settings (moderators): where the bot answers, the ask channel, private answers, who may add articles or
moderate; shown with their current values, changed for this server only, effective at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..checks import Refused, moderator_only
from ..render import escape
from ..respond import defer, edit_original
from ..serverconfig import ServerConfig, resolve_channels, resolve_roles, with_changes

if TYPE_CHECKING:
    from ..app import NewsdeskBot

EVERYWHERE = ("everywhere", "all", "every channel")
NONE = ("none", "off", "no")
DEFAULT = ("default",)
EVERYONE = ("everyone", "anyone")
NO_CONTENT = (
    "\n-# Note: the bot cannot read messages that do not mention it until the Message Content intent is "
    "on (DISCORD_MESSAGE_CONTENT=true, and enabled in the Developer Portal); until then, mention it there."
)


def describe(config: ServerConfig, bot: NewsdeskBot) -> discord.Embed:
    """The current settings as an embed."""

    def channels(ids: tuple[int, ...]) -> str:
        return " ".join(f"<#{c}>" for c in ids)

    def roles(ids: tuple[int, ...] | None, default: str | None, none: str) -> str:
        if ids is None:
            return f"default ({escape(default)})" if default else f"default ({none})"
        return " ".join(f"<@&{r}>" for r in ids) or none

    s = bot.settings
    embed = discord.Embed(title="Newsdesk settings for this server")
    embed.add_field(name="Answers in", value=channels(config.channels) or "every channel", inline=False)
    embed.add_field(
        name="Ask channel", value=f"<#{config.ask_channel}>" if config.ask_channel else "none", inline=False
    )
    embed.add_field(
        name="/ask answers", value="private (only the asker sees them)" if config.private else "public", inline=False
    )
    embed.add_field(name="May add articles", value=roles(config.add_roles, s.add_role, "everyone"), inline=False)
    embed.add_field(
        name="Moderators",
        value="Manage Server, and " + roles(config.moderator_roles, s.moderator_role, "no role"),
        inline=False,
    )
    digest = f"<#{config.digest_channel}> at {config.digest_time} UTC" if config.digest_at() else "off"
    embed.add_field(name="Daily digest (/digest)", value=digest, inline=False)
    return embed


class Settings(commands.Cog):
    """Per-server settings."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description="Show or change where and how I answer here (moderators)")
    @app_commands.describe(
        answer_in="'everywhere', or the channels I answer in (mention them: #news #ask)",
        ask_channel="A channel or forum where every new message or post is a question; 'none' to turn it off",
        private="Whether /ask answers are visible only to the asker",
        add_roles="Roles that may add articles (mention them); 'everyone' or 'default'",
        moderator_roles="Roles that moderate me besides Manage Server (mention them); 'default'",
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def settings(
        self,
        interaction: discord.Interaction,
        answer_in: str | None = None,
        ask_channel: str | None = None,
        private: bool | None = None,
        add_roles: str | None = None,
        moderator_roles: str | None = None,
    ) -> None:
        """Validate every change first (nothing is stored if any names another server's channel or role)."""
        guild = interaction.guild
        assert guild is not None
        config = await self.bot.configs.get(guild.id)
        changes: dict = {}
        if answer_in is not None:
            changes["channels"] = () if answer_in.strip().lower() in EVERYWHERE else self._channels(guild, answer_in)
        if ask_channel is not None:
            changes["ask_channel"] = (
                None if ask_channel.strip().lower() in NONE else self._one_channel(guild, ask_channel)
            )
        if private is not None:
            changes["private"] = private
        if add_roles is not None:
            word = add_roles.strip().lower()
            changes["add_roles"] = (
                None if word in DEFAULT else () if word in EVERYONE else self._roles(guild, add_roles)
            )
        if moderator_roles is not None:
            changes["moderator_roles"] = (
                None if moderator_roles.strip().lower() in DEFAULT else self._roles(guild, moderator_roles)
            )
        await defer(interaction, ephemeral=True)
        if changes:
            config = await self.bot.configs.set(guild.id, with_changes(config, **changes))
        note = NO_CONTENT if config.ask_channel and not self.bot.intents.message_content else ""
        await edit_original(
            interaction, content=("Saved." if changes else "Current settings:") + note, embed=describe(config, self.bot)
        )

    def _channels(self, guild: discord.Guild, text: str) -> tuple[int, ...]:
        found = resolve_channels(guild, self.bot, text)
        if not found:
            raise Refused("Name at least one channel, or say 'everywhere'; nothing was changed.")
        return found

    def _one_channel(self, guild: discord.Guild, text: str) -> int:
        found = resolve_channels(guild, self.bot, text)
        if len(found) != 1:
            raise Refused("Name one channel (or 'none') for the ask channel; nothing was changed.")
        return found[0]

    def _roles(self, guild: discord.Guild, text: str) -> tuple[int, ...]:
        found = resolve_roles(guild, self.bot, text)
        if not found:
            raise Refused("Name at least one role (or 'default'); nothing was changed.")
        return found
