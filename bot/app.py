"""The Discord bot: start-up, command sync, engine calls off the event loop, and the one fallback error handler."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from index import Engine, NewsdeskError, clip, load_sentence_splitter

from .checks import Refused
from .community import setup_community
from .lanes import Lane, Lanes
from .progress import HANDOVER
from .ratelimit import SlidingWindowLimiter
from .render import inert_mentions
from .respond import NO_PINGS, tell
from .serverconfig import ServerConfigs
from .settings import DiscordSettings

log = logging.getLogger("newsdesk.bot")
T = TypeVar("T")
GENERIC_ERROR = "Something went wrong on my side. It has been logged; please try again later."
STREAM_INTERVAL = 1.25  # seconds between edits while an answer streams in
PROGRESS_INTERVAL = 1.5  # seconds between progress edits (Discord rate-limits edits of one message)


class NewsdeskBot(commands.Bot):
    """Slash commands and mentions in front of the engine; every engine call runs in a worker thread."""

    configs: ServerConfigs  # each server's settings (set up with the community features)

    def __init__(
        self,
        settings: DiscordSettings,
        engine: Engine,
        *,
        stream_interval: float = STREAM_INTERVAL,
        progress_interval: float = PROGRESS_INTERVAL,
        progress_handover: float = HANDOVER,
        lanes: Lanes | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.default()  # no privileged intents: mentions carry their content anyway
        intents.message_content = settings.message_content  # ...except for an ask channel, where none is needed
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=NO_PINGS,
            **options,
        )
        self.settings, self.engine = settings, engine
        self.stream_interval, self.progress_interval = stream_interval, progress_interval  # tests pass small ones
        self.progress_handover = progress_handover  # seconds after a command at which its progress moves on
        self.ask_limiter = SlidingWindowLimiter(settings.ask_per_minute)
        self.add_limiter = SlidingWindowLimiter(settings.add_per_minute)
        self.lanes = lanes or Lanes()
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def setup_hook(self) -> None:
        """Load the cogs and sync the slash commands (to DISCORD_GUILD_ID at once, else globally)."""
        # Answers are shortened at sentence ends: the splitter (about a second to import) loads meanwhile.
        self._splitter_loading = asyncio.create_task(asyncio.to_thread(load_sentence_splitter))
        from .cogs.admin import Admin
        from .cogs.articles import Articles
        from .cogs.ask import Ask
        from .cogs.feeds import Feeds

        for cog in (Ask(self), Articles(self), Admin(self), Feeds(self)):
            await self.add_cog(cog)
        await setup_community(self)
        if self.settings.guild_id:
            guild = discord.Object(self.settings.guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("Synced %d commands to server %s", len(synced), guild.id)
        else:
            synced = await self.tree.sync()
            log.info("Synced %d commands globally (Discord may take up to an hour to show changes)", len(synced))

    async def on_ready(self) -> None:
        """Log one clear line when connected."""
        user = self.user
        log.info(
            "Newsdesk bot ready: logged in as %s (id %s) in %d server(s)", user, user and user.id, len(self.guilds)
        )

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: the Ask cog listens for mentions."""

    async def run_engine(self, func: Callable[..., T], *args: Any, lane: Lane, **kwargs: Any) -> T:
        """Call a blocking engine method in a worker thread of its lane (questions never queue behind writes)."""
        return await self.lanes.run(lane, func, *args, **kwargs)

    async def close(self) -> None:
        """Disconnect, then stop the lanes' threads from taking new work."""
        try:
            await super().close()
        finally:
            self.lanes.shutdown()

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Slash commands and modals report here."""
        name = interaction.command.qualified_name if interaction.command else "interaction"
        await self.report(error, interaction=interaction, where=f"/{name}")

    async def on_error(self, event_method: str, /, *args: Any, **kwargs: Any) -> None:
        """Event listeners (mentions) report here."""
        error = sys.exc_info()[1]
        message = next((a for a in args if isinstance(a, discord.Message)), None)
        await self.report(error or RuntimeError(event_method), message=message, where=event_method)

    async def report(
        self,
        error: BaseException,
        *,
        interaction: discord.Interaction | None = None,
        message: discord.Message | None = None,
        where: str = "",
    ) -> None:
        """The one fallback error handler: a short message to the user, the full traceback to the log."""
        error = unwrap(error)
        text = user_text(error)
        if text is None:
            log.error("Unexpected error in %s", where, exc_info=(type(error), error, error.__traceback__))
            text = GENERIC_ERROR
        else:
            log.info("%s refused: %s", where, text)
        try:
            if interaction is not None:
                await tell(interaction, text)
            elif message is not None:
                await message.reply(text, mention_author=False, allowed_mentions=NO_PINGS)
        except discord.HTTPException as exc:
            log.warning("could not tell the user about an error in %s: %s", where, exc)


def unwrap(error: BaseException) -> BaseException:
    """The exception a command raised, without discord.py's wrappers."""
    while isinstance(error, (app_commands.CommandInvokeError, commands.CommandInvokeError)):
        error = error.original
    return error


def user_text(error: BaseException) -> str | None:
    """What to tell the user about an expected error; None for a bug."""
    if isinstance(error, NewsdeskError):
        return clip_error(str(error) or type(error).__name__)
    if isinstance(error, Refused):
        return str(error)
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server only."
    if isinstance(error, app_commands.CheckFailure):
        return "You can't use this command here."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't understand {error.value!r} for that option."
    return None


def clip_error(text: str) -> str:
    """Engine error text, short enough for a message."""
    return clip(inert_mentions(text), 1800)
