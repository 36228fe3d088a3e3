"""What a server's settings decide about a question: whether the bot answers in this channel, whether a message
needs no mention (the ask channel and its threads), whether an /ask answer is private, and the feedback buttons
an answer carries; and the start-up of the community features (their cogs, the persistent buttons)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import discord

from index import Answer

from .calls import server_key, user_key
from .checks import Refused
from .serverconfig import ServerConfig, ServerConfigs

if TYPE_CHECKING:
    from .app import NewsdeskBot


@dataclass(frozen=True)
class Place:
    """Where a question was asked and by whom, as the engine and the reply need it."""

    server: str | None
    asker: str
    private: bool = False  # the answer is shown to the asker only
    any_message: bool = False  # the ask channel: questions and follow-ups need no mention

    def engine_kwargs(self) -> dict[str, Any]:
        """The engine's arguments for this place."""
        return {"server": self.server, "asker": self.asker}


def where_i_answer(config: ServerConfig) -> str:
    """Where the bot answers in a server, as a sentence."""
    channels = list(config.channels) + ([config.ask_channel] if config.ask_channel else [])
    return "I answer questions in " + ", ".join(f"<#{c}>" for c in dict.fromkeys(channels)) + " in this server."


async def place_of_interaction(bot: NewsdeskBot, interaction: discord.Interaction, private: bool | None) -> Place:
    """The place of an /ask; Refused (privately) in a channel where the server's moderators have the bot keep quiet."""
    config = await bot.configs.get(interaction.guild_id)
    if interaction.guild_id is not None and not config.answers_in(interaction.channel):
        raise Refused(where_i_answer(config))
    return Place(
        server_key(interaction.guild_id),
        user_key(interaction.user),
        private=config.private if private is None else private,
    )


async def place_of_message(bot: NewsdeskBot, message: discord.Message) -> Place | None:
    """The place of a message that is a question for the bot (a mention, or any message in the ask channel and its
    threads) where the bot answers; None for any other message."""
    guild_id = message.guild.id if message.guild else None
    config = await bot.configs.get(guild_id)
    asking = config.is_ask_channel(message.channel)
    if not (asking or (bot.user is not None and bot.user in message.mentions)):
        return None
    if guild_id is not None and not config.answers_in(message.channel):
        return None
    return Place(server_key(guild_id), user_key(message.author), any_message=asking)


def answer_extras(answer: Answer) -> dict[str, Any]:
    """What an answer message carries besides its text: the 👍 / 👎 buttons when the answer was logged."""
    from .views import feedback_view

    return {"view": feedback_view(answer.log_id)} if answer.log_id is not None else {}


async def setup_community(bot: NewsdeskBot) -> None:
    """Per-server settings, the community cogs, and the buttons that keep working after a restart."""
    from .cogs.digest import Digest
    from .cogs.feedback import Feedback
    from .cogs.settings import Settings
    from .cogs.stats import Stats
    from .views import ActSelect, RateButton, ReasonSelect

    bot.configs = ServerConfigs(bot)
    for cog in (Settings(bot), Feedback(bot), Stats(bot), Digest(bot)):
        await bot.add_cog(cog)
    bot.add_dynamic_items(RateButton, ReasonSelect, ActSelect)
