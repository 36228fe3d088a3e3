"""/digest (moderators): a daily digest of this server's top stories, posted in a channel at a time of day
(UTC), at most once a day (the engine records each day's claim), and skipped when nothing is new."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..calls import server_key
from ..checks import Refused, moderator_only
from ..render import CONTENT_MAX, clip, render_answer
from ..respond import NO_PINGS, defer, edit_original
from ..serverconfig import ServerConfig, parse_time, resolve_channels, with_changes

if TYPE_CHECKING:
    from ..app import NewsdeskBot

log = logging.getLogger(__name__)
DEFAULT_TIME = "07:00"
OFF = ("off", "none", "no")


def digest_message(answer_text: str, day: date) -> str:
    """The digest's heading and its cited lines."""
    return clip(f"**Top stories, {day.isoformat()}**\n{answer_text}", CONTENT_MAX)


class Digest(commands.Cog):
    """Setting the daily digest, and posting the digests that are due."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self._task: asyncio.Task | None = None

    async def cog_load(self) -> None:
        """Start looking for due digests."""
        self._task = asyncio.create_task(self._watch())

    async def cog_unload(self) -> None:
        """Stop looking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _watch(self) -> None:
        await self.bot.wait_until_ready()
        while not self.bot.is_closed():
            try:
                await self.post_due(datetime.now(UTC))
            except Exception:
                log.exception("Posting the due digests failed")
            await asyncio.sleep(self.bot.settings.digest_check_seconds)

    async def post_due(self, now: datetime) -> None:
        """Post every server's digest whose time of day has come and that was not posted or skipped today."""
        for guild in list(self.bot.guilds):
            config = await self.bot.configs.get(guild.id)
            at = config.digest_at()
            if at is not None and now.time() >= at:
                await self.post(guild, config, now.date())

    async def post(self, guild: discord.Guild, config: ServerConfig, day: date) -> str:
        """One server's digest of a day: 'posted', 'skipped' (nothing new), or why not."""
        engine, server = self.bot.engine, server_key(guild.id)
        if await self.bot.run_engine(engine.digest_status, server, day, lane="quick") is not None:
            return "done before"
        if not await self.bot.run_engine(engine.claim_digest, server, day, lane="quick"):
            return "claimed elsewhere"
        status = "failed"
        try:
            answer = await self.bot.run_engine(engine.digest, server, day, lane="ask")
            if not answer.covered:
                status = "skipped"
                return status
            channel = guild.get_channel(config.digest_channel or 0)
            if not isinstance(channel, discord.abc.Messageable):
                log.warning("The digest channel of server %s is gone", guild.id)
                return status
            rendered = render_answer(answer)
            await channel.send(digest_message(rendered.content, day), embeds=rendered.embeds, allowed_mentions=NO_PINGS)
            status = "posted"
            return status
        finally:
            await self.bot.run_engine(engine.finish_digest, server, day, status, lane="quick")

    @app_commands.command(name="digest", description="Post a daily digest of the top stories in a channel (moderators)")
    @app_commands.describe(
        channel="The channel to post in (mention it), or 'off'", time="Time of day in UTC, HH:MM (default 07:00)"
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def digest(
        self, interaction: discord.Interaction, channel: str | None = None, time: str | None = None
    ) -> None:
        """Show, set or turn off this server's digest."""
        guild = interaction.guild
        assert guild is not None
        config = await self.bot.configs.get(guild.id)
        changes: dict = {}
        if channel is not None and channel.strip().lower() in OFF:
            changes = {"digest_channel": None}
        elif channel is not None:
            found = resolve_channels(guild, self.bot, channel)
            if len(found) != 1 or not isinstance(guild.get_channel(found[0]), discord.TextChannel):
                raise Refused("Name one text channel of this server for the digest; nothing was changed.")
            changes = {"digest_channel": found[0], "digest_time": config.digest_time or DEFAULT_TIME}
        if time is not None:
            parse_time(time)
            changes["digest_time"] = time.strip().upper().removesuffix("UTC").strip()
        await defer(interaction, ephemeral=True)
        if changes:
            config = await self.bot.configs.set(guild.id, with_changes(config, **changes))
        text = (
            f"Daily digest: <#{config.digest_channel}> at {config.digest_time} UTC, when something new came in "
            "that day."
            if config.digest_at()
            else "No daily digest is set."
        )
        await edit_original(interaction, content=("Saved. " if changes else "") + text)
