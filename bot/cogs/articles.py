"""/add-article (URL, file, or pasted text in a modal) and /sources (list or search, with title autocomplete), in
this server's corpus: /sources lists its own articles and the shared ones, who added them, and what was removed."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from index import AddResult, ArticleInfo, InvalidInput, clip, parse_iso_date

from ..calls import server_key, user_key
from ..checks import Refused, adders_only
from ..render import DESCRIPTION_MAX, byline, escape, plural
from ..respond import defer, edit_original, quickly_or_deferred, reply

# Adds refused for their input do not count toward the add limit; a link that could not be fetched does
# (fetching costs the bot a connection and up to the fetch timeout).
REFUNDED = (Refused, InvalidInput)

if TYPE_CHECKING:
    from ..app import NewsdeskBot

LIST_LIMIT = 15


def describe(info: ArticleInfo) -> str:
    """**Title** (Outlet, 2023-10-24) as one escaped line, linked when it has a URL."""
    title = f"**{escape(clip(info.display_title or 'Untitled', 200, ' …'))}**"
    if info.url and info.url.startswith(("http://", "https://")):
        title = f"[{title}](<{info.url}>)"
    known = byline(info.outlet, info.published)
    return f"{title} ({escape(known)})" if known else title


def describe_add(result: AddResult) -> str:
    """What adding did, in one sentence."""
    info = result.article
    if result.status == "unchanged":
        return f"Already there: {describe(info)}. Nothing changed."
    verb = "Updated" if result.status == "replaced" else "Added"
    return f"{verb} {describe(info)}: {plural(info.chunks, 'chunk')}, id `{info.id}`."


def by(actor: str | None) -> str:
    """Who did something, as a listing shows it (a Discord user as a mention, which never pings here)."""
    if (actor or "").startswith("discord:"):
        return f"<@{(actor or '').split(':', 1)[1]}>"
    return escape(actor or "someone")


def provenance(info: ArticleInfo) -> str:
    """' · shared', ' · hidden', ' · added by @someone' as a listing shows them."""
    parts = ["shared"] if info.server is None else []
    parts += [info.moderation] if info.moderation else []
    parts += [f"added by {by(info.added_by)}"] if info.added_by else []
    return "".join(f" · {p}" for p in parts)


async def article_choices(
    bot: NewsdeskBot, current: str, guild_id: int | None = None, own: bool = False
) -> list[app_commands.Choice[str]]:
    """Autocomplete: up to 25 articles of this server (its own only, with own) whose title, outlet or id contains
    what was typed (value = id)."""
    server = server_key(guild_id)
    found = await bot.run_engine(
        bot.engine.list_articles, current.strip() or None, 100 if own else 25, server=server, lane="quick"
    )
    found = [a for a in found if a.server == server] if own else found
    return [app_commands.Choice(name=clip(a.display_title or a.id, 100), value=a.id) for a in found[:25]]


class AddTextModal(discord.ui.Modal, title="Add an article"):
    """Pasted text: title, body and optional outlet, date and link."""

    article_title: discord.ui.TextInput[AddTextModal] = discord.ui.TextInput(
        label="Title", custom_id="title", max_length=300
    )
    body: discord.ui.TextInput[AddTextModal] = discord.ui.TextInput(
        label="Article text (up to 4,000 characters)",
        custom_id="body",
        style=discord.TextStyle.paragraph,
        min_length=20,
        max_length=4000,
    )
    outlet: discord.ui.TextInput[AddTextModal] = discord.ui.TextInput(
        label="Outlet (optional)", custom_id="outlet", required=False, max_length=100
    )
    published: discord.ui.TextInput[AddTextModal] = discord.ui.TextInput(
        label="Published (YYYY-MM-DD, optional)", custom_id="published", required=False, max_length=10
    )
    link: discord.ui.TextInput[AddTextModal] = discord.ui.TextInput(
        label="Link (optional)", custom_id="url", required=False, max_length=500
    )

    def __init__(self, cog: Articles) -> None:
        super().__init__()
        self.cog = cog

    async def on_submit(self, interaction: discord.Interaction) -> None:
        """Add the pasted text."""
        bot = self.cog.bot
        with bot.add_limiter.charge(interaction.user.id, "adding articles", refund_on=REFUNDED):
            published = _parse_date(self.published.value)
            adding = bot.run_engine(
                bot.engine.add_text,
                self.article_title.value,
                self.body.value,
                outlet=self.outlet.value.strip() or None,
                published=published,
                url=self.link.value.strip() or None,
                lane="write",
                server=server_key(interaction.guild_id),
                actor=user_key(interaction.user),
            )
            result = await quickly_or_deferred(interaction, adding)
        await reply(interaction, content=describe_add(result))

    async def on_error(self, interaction: discord.Interaction, error: Exception) -> None:  # type: ignore[override]
        """Errors go to the bot's one handler (a Modal's on_error takes no item)."""
        await self.cog.bot.report(error, interaction=interaction, where="add-article modal")


def _parse_date(text: str) -> date | None:
    return parse_iso_date(text, "publication date") if text.strip() else None


class Articles(commands.Cog):
    """Adding and listing articles."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="add-article", description="Add a news article by link or file; with neither, paste it")
    @app_commands.describe(url="Link to the article", file="The article as a text, Markdown, HTML or PDF file")
    @app_commands.guild_only()
    @adders_only()
    async def add_article(
        self, interaction: discord.Interaction, url: str | None = None, file: discord.Attachment | None = None
    ) -> None:
        """Add from a URL or an attachment, or open the paste-text modal."""
        if url and file:
            raise Refused("Give a link or a file, not both.")
        if not url and not file:
            await interaction.response.send_modal(AddTextModal(self))
            return
        with self.bot.add_limiter.charge(interaction.user.id, "adding articles", refund_on=REFUNDED):
            if file is not None and file.size > self.bot.engine.settings.max_article_bytes:
                raise Refused(
                    f"{escape(file.filename)} is {file.size:,} bytes; the limit is "
                    f"{self.bot.engine.settings.max_article_bytes:,}."
                )
            result = await quickly_or_deferred(interaction, self._add(url, file, interaction))
        await reply(interaction, content=describe_add(result))

    async def _add(
        self, url: str | None, file: discord.Attachment | None, interaction: discord.Interaction
    ) -> AddResult:
        engine = self.bot.engine
        where = {"server": server_key(interaction.guild_id), "actor": user_key(interaction.user)}
        if file is not None:
            data = await file.read()
            return await self.bot.run_engine(
                engine.add_bytes, data, filename=file.filename, content_type=file.content_type, lane="write", **where
            )
        return await self.bot.run_engine(engine.add_url, (url or "").strip(), lane="write", **where)

    @app_commands.command(name="sources", description="List or search the articles I can cite")
    @app_commands.describe(
        search="Part of a title, an outlet, or an article id",
        removed="Show the articles removed from this server, and who removed them",
    )
    async def sources(self, interaction: discord.Interaction, search: str | None = None, removed: bool = False) -> None:
        """Show matching articles (newest first) to the user who asked."""
        await defer(interaction, ephemeral=True)
        if removed:
            await self._removed(interaction)
            return
        found = await self.bot.run_engine(
            self.bot.engine.list_articles, search, LIST_LIMIT + 1, server=server_key(interaction.guild_id), lane="quick"
        )
        if not found:
            await edit_original(interaction, content="No article matches that." if search else "No articles yet.")
            return
        shown: list[str] = []
        for a in found[:LIST_LIMIT]:
            line = f"{describe(a)} · `{a.id}`{provenance(a)}"
            if sum(len(x) + 1 for x in shown) + len(line) > DESCRIPTION_MAX - 60:
                break
            shown.append(line)
        if len(shown) < len(found):
            shown.append("-# …and more; narrow it down with `search`.")
        text = "\n".join(shown)
        heading = f"Articles matching “{clip(search, 200, ' …')}”" if search else "Articles, newest first"
        await edit_original(interaction, embed=discord.Embed(title=escape(heading), description=text.strip()))

    async def _removed(self, interaction: discord.Interaction) -> None:
        events = await self.bot.run_engine(
            self.bot.engine.article_history, server=server_key(interaction.guild_id), limit=LIST_LIMIT, lane="quick"
        )
        lines = [
            f"**{escape(clip(e.title or e.article_id, 150))}** · `{e.article_id}` · removed "
            f"<t:{int(e.at.timestamp())}:R> by {by(e.actor)}"
            for e in events
        ]
        await edit_original(
            interaction, embed=discord.Embed(title="Removed articles", description="\n".join(lines) or "None removed.")
        )

    @sources.autocomplete("search")
    async def _sources_complete(self, interaction: discord.Interaction, current: str) -> list[app_commands.Choice[str]]:
        return await article_choices(self.bot, current, interaction.guild_id)
