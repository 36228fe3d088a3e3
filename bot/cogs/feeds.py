"""/feeds add, /feeds remove, /feeds list (moderators), and the polling task that runs while the bot does."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import FeedInfo

from ..app import GENERIC_ERROR, user_text
from ..calls import server_key
from ..checks import moderator_only
from ..render import DESCRIPTION_MAX, clip, escape
from ..respond import defer, edit_original

if TYPE_CHECKING:
    from ..app import NewsdeskBot

log = logging.getLogger("newsdesk.bot.feeds")
MAX_TICK = 60.0  # seconds between two looks at which feeds are due (a feed's own interval is in the settings)


def when(moment: datetime | None) -> str:
    """A Discord timestamp shown relative to the reader's clock ('5 minutes ago'), or 'never'."""
    return f"<t:{int(moment.timestamp())}:R>" if moment else "never"


def describe_feed(feed: FeedInfo) -> str:
    """Two or three lines about a feed: its title and link (and whether it is shared), its polling, its last
    error."""
    head = f"**{feed.id}. {escape(clip(feed.name, 150))}**" + (" (shared)" if feed.server is None else "")
    if feed.url.startswith(("http://", "https://")):
        head += f" <{clip(feed.url, 300, '…')}>"
    text = (
        f"{head}\nLast poll {when(feed.last_poll)} · {feed.items_added} item(s) added · next poll "
        f"{when(feed.next_poll) if feed.next_poll else 'now'}"
    )
    if feed.last_error:
        text += f"\nLast error ({feed.failures} in a row): {escape(clip(feed.last_error, 300))}"
    return text


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class Feeds(commands.GroupCog, group_name="feeds", group_description="News feeds followed by the bot (moderators)"):
    """Feeds managed by moderators (checked in code), and polled on a schedule in a worker thread."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self.last_run_error: str | None = None  # why the last polling run failed (shown by /feeds list)
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        super().__init__()

    @property
    def interval(self) -> float:
        """Seconds between polls of one feed (NEWSDESK_FEED_POLL_MINUTES)."""
        return float(self.bot.engine.settings.feed_poll_minutes) * 60

    async def cog_load(self) -> None:
        """Start polling in the background."""
        self._task = asyncio.create_task(self._poll_forever(), name="newsdesk-feeds")

    async def cog_unload(self) -> None:
        """Stop polling."""
        if self._task is not None:
            self._task.cancel()

    async def _poll_forever(self) -> None:
        await self.bot.wait_until_ready()
        refreshed = time.monotonic()
        while not self.bot.is_closed():
            try:
                await asyncio.wait_for(self.wake.wait(), min(MAX_TICK, self.interval))
            except TimeoutError:
                pass
            self.wake.clear()
            refresh = time.monotonic() - refreshed >= self.interval
            await self.run_once(refresh)
            if refresh:
                refreshed = time.monotonic()

    async def run_once(self, refresh: bool = True) -> None:
        """One polling run: the due feeds, then (with refresh) the young articles; errors are logged and kept
        for /feeds list, never raised. The work runs in a worker thread (a write job, one at a time)."""
        engine = self.bot.engine
        try:
            reports = await self.bot.run_engine(engine.poll_feeds, lane="write")
            for report in reports:
                if report.added:
                    log.info("Feed %s: %d article(s) added", report.feed.url, len(report.added))
            if refresh:
                await self.bot.run_engine(engine.refresh_recent, lane="write")
            self.last_run_error = None
        except Exception as exc:
            text = user_text(exc)
            if text is None:
                log.error("Polling feeds failed", exc_info=exc)
            elif text != self.last_run_error:
                log.warning("Polling feeds failed: %s", text)
            self.last_run_error = text or GENERIC_ERROR

    @app_commands.command(name="add", description="Follow an RSS/Atom feed or a news sitemap (moderators)")
    @app_commands.describe(url="Link to the feed or sitemap")
    @moderator_only()
    async def add(self, interaction: discord.Interaction, url: str) -> None:
        """Read the feed once (a bad one is refused, nothing stored), then follow it for this server."""
        await defer(interaction)
        feed = await self.bot.run_engine(
            self.bot.engine.add_feed, url.strip(), server=server_key(interaction.guild_id), lane="write"
        )
        self.wake.set()
        minutes = self.interval / 60
        await edit_original(
            interaction,
            content=f"Following {describe_feed(feed).splitlines()[0]}: its new items "
            f"will be added shortly, then every {minutes:g} minutes.",
        )

    @app_commands.command(name="remove", description="Stop following a feed; its articles stay (moderators)")
    @app_commands.describe(feed="Start typing the feed's title, then pick it")
    @moderator_only()
    async def remove(self, interaction: discord.Interaction, feed: str) -> None:
        """Remove the chosen feed of this server's (an id from autocomplete, or its URL)."""
        await defer(interaction)
        info = await self.bot.run_engine(
            self.bot.engine.remove_feed, feed.strip(), server=server_key(interaction.guild_id), lane="write"
        )
        await edit_original(
            interaction,
            content=f"Stopped following **{escape(clip(info.name, 150))}** "
            f"({info.items_added} article(s) it brought stay).",
        )

    @remove.autocomplete("feed")
    async def _remove_complete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        server = server_key(interaction.guild_id)
        feeds = await self.bot.run_engine(self.bot.engine.list_feeds, server=server, lane="quick")
        wanted = current.strip().casefold()
        return [
            app_commands.Choice(name=clip(f"{f.id}. {f.name}", 100, "…"), value=str(f.id))
            for f in feeds
            if f.server == server and (wanted in f.name.casefold() or wanted in f.url.casefold())
        ][:25]

    @app_commands.command(name="list", description="The feeds followed: last poll, items added, errors (moderators)")
    @moderator_only()
    async def list_feeds(self, interaction: discord.Interaction) -> None:
        """This server's feeds and the shared ones: title, last poll, items added and last error, shown to the
        moderator only."""
        await defer(interaction, ephemeral=True)
        feeds = await self.bot.run_engine(
            self.bot.engine.list_feeds, server=server_key(interaction.guild_id), lane="quick"
        )
        lines = (
            [f"⚠ The last polling run failed: {escape(clip(self.last_run_error, 500))}"] if self.last_run_error else []
        )
        shown = 0
        for feed in feeds:
            entry = describe_feed(feed)
            if sum(len(x) + 2 for x in lines) + len(entry) > DESCRIPTION_MAX - 80:
                break
            lines.append(entry)
            shown += 1
        if shown < len(feeds):
            lines.append(f"-# …and {len(feeds) - shown} more.")
        if not feeds:
            lines.append("No feeds yet: add one with `/feeds add`.")
        title = f"Feeds ({len(feeds)}), polled every {self.interval / 60:g} minutes"
        await edit_original(interaction, embed=discord.Embed(title=title, description="\n\n".join(lines)))
