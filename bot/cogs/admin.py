"""Moderator commands: /rebuild-index with live progress, /remove-article, /index-status."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import ArticleInfo, ArticleNotFound, RebuildInProgress

from ..calls import server_key, user_key
from ..checks import Refused, moderator_only
from ..progress import ProgressReport
from ..render import escape, plural
from ..respond import defer, edit_original, quickly_or_deferred, reply
from .articles import article_choices, describe

if TYPE_CHECKING:
    from ..app import NewsdeskBot


def progress_line(done: int, total: int) -> str:
    """Rebuilding the index… ▰▰▰▱▱▱▱▱▱▱ 12/40 articles (30%)"""
    share = done / total if total else 1.0
    bar = "▰" * round(share * 10) + "▱" * (10 - round(share * 10))
    return f"Rebuilding the index… {bar} {done:,}/{plural(total, 'article')} ({share:.0%})"


class Admin(commands.Cog):
    """Index maintenance for moderators (checked in code; default_permissions is only a hint)."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="rebuild-index", description="Re-index this server's own articles (moderators)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def rebuild_index(self, interaction: discord.Interaction) -> None:
        """Rebuild, editing the reply with progress at most every `bot.progress_interval` seconds."""
        if self.bot.engine.rebuilding:
            raise RebuildInProgress("A rebuild is already running; its progress is shown where it was started.")
        await defer(interaction)
        progress = ProgressReport(
            interaction,
            self.bot.progress_interval,
            working="Rebuilding the index…",
            handover=self.bot.progress_handover,
        )

        def on_progress(done: int, total: int) -> None:
            progress.update_threadsafe(progress_line(done, total))

        try:
            report = await self.bot.run_engine(
                self.bot.engine.rebuild_server, server_key(interaction.guild_id), progress=on_progress, lane="write"
            )
        finally:
            progress.stop()
        await progress.final(
            f"Index rebuilt: {plural(report.articles, 'article')}, {plural(report.chunks, 'chunk')} "
            f"in {report.seconds:.1f} s ({report.embedded:,} embedded, {report.cached:,} from cache); "
            f"now serving `{report.collection}`."
        )

    @app_commands.command(name="remove-article", description="Remove an article and its passages (moderators)")
    @app_commands.describe(article="Start typing a title, then pick the article")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def remove_article(self, interaction: discord.Interaction, article: str) -> None:
        """Remove the chosen article (an id from autocomplete, or a title that matches exactly one)."""

        async def remove() -> ArticleInfo:
            article_id = await self._resolve(article, interaction.guild_id)
            return await self.bot.run_engine(
                self.bot.engine.remove,
                article_id,
                lane="write",
                server=server_key(interaction.guild_id),
                actor=user_key(interaction.user),
            )

        info = await quickly_or_deferred(interaction, remove())
        await reply(interaction, content=f"Removed {describe(info)} ({plural(info.chunks, 'chunk')}).")

    @remove_article.autocomplete("article")
    async def _remove_complete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await article_choices(self.bot, current, interaction.guild_id, own=True)

    async def _resolve(self, text: str, guild_id: int | None) -> str:
        server = server_key(guild_id)
        found = await self.bot.run_engine(self.bot.engine.list_articles, text.strip(), 100, server=server, lane="quick")
        found = [a for a in found if a.server == server][:2]  # this server's own articles only
        if any(a.id == text.strip() for a in found):
            return text.strip()
        if len(found) == 1:
            return found[0].id
        if not found:
            raise ArticleNotFound(f"No article matches {escape(text)!s}.")
        raise Refused("Several articles match that; pick one from the suggestions.")

    @app_commands.command(name="index-status", description="What the index holds and how it is set up (moderators)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def index_status(self, interaction: discord.Interaction) -> None:
        """Counts and configuration, shown to the moderator only."""
        await defer(interaction, ephemeral=True)
        status = await self.bot.run_engine(
            self.bot.engine.status, server=server_key(interaction.guild_id), lane="quick"
        )
        embed = discord.Embed(title="Newsdesk index")
        for name, value in (
            ("Articles", status.articles),
            ("Chunks", status.chunks),
            ("Shared articles", status.extra.get("shared_articles", "—")),
            ("Store", status.store),
            ("Collection", status.collection),
            ("Embedding model", status.embed_model),
            ("Answerer", status.answerer),
            ("Rebuilding", "yes" if status.rebuilding else "no"),
        ):
            embed.add_field(name=name, value=escape(str(value))[:1024] or "—")
        await edit_original(interaction, embed=embed)
