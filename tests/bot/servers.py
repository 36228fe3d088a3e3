"""Helpers for the tests of a bot in two servers: the fake with a second guild and the bot on it, the bot's
answers, the buttons and menus on them, and articles added through Discord."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from bot.app import NewsdeskBot

from ..fakes.discord import FakeDiscord, FakeInteraction, FakeServer, FakeUser
from .harness import bot_on, done, running_fake

FERRY = {
    "title": "Westport ferry fares will double in March",
    "body": "The Westport ferry company will double its fares in March, the harbour board said on Monday. "
    "A single crossing will cost 8 euros instead of 4; season tickets rise by half.",
    "outlet": "Westport Post",
    "published": "2025-02-03",
    "url": "https://news.example/ferry-fares",
}
TOLL = {
    "title": "Eastport council approves a bridge toll",
    "body": "Eastport's council approved a toll of 3 euros on the new river bridge on Tuesday. Lorries will pay "
    "12 euros; the toll starts when the bridge opens in June.",
    "outlet": "Eastport Courier",
    "published": "2025-02-04",
    "url": "https://news.example/bridge-toll",
}
FERRY_Q = "How much will a single ferry crossing in Westport cost?"
TOLL_Q = "How much is the Eastport bridge toll?"


@dataclass
class Two:
    """The fake Discord with two guilds (the first is `fake`'s own, the second `b`) and the bot in both."""

    fake: FakeDiscord
    bot: NewsdeskBot
    b: FakeServer

    def __getattr__(self, name: str) -> Any:
        return getattr(self.fake, name)


@contextlib.asynccontextmanager
async def two_servers(engine: Any, **discord_settings: Any) -> AsyncIterator[Two]:
    """A fake with a second guild, and the bot connected to both (commands synced globally)."""
    async with running_fake() as fake:
        b = fake.add_server("Other Newsroom")
        async with bot_on(fake, engine, **{"guild_id": None, **discord_settings}) as bot:
            yield Two(fake, bot, b)


async def add_by_modal(env: Any, user: FakeUser, article: dict, channel_id: str | None = None) -> FakeInteraction:
    """Add an article as a member would: /add-article with no option, then the pasted-text modal."""
    opened = await env.slash("add-article", user, channel_id=channel_id)
    await env.wait_for(lambda: opened.callbacks, 10)
    values = {
        "title": article["title"],
        "body": article["body"],
        "outlet": article["outlet"],
        "published": article["published"],
        "url": article["url"],
    }
    return await done(env, await env.submit_modal(opened, values))


async def asked(
    env: Any, user: FakeUser, question: str, channel_id: str | None = None, **options: Any
) -> FakeInteraction:
    """An /ask, once its answer is final (every logged answer ends with its 👍 / 👎 buttons)."""
    ix = await env.slash("ask", user, channel_id=channel_id, question=question, **options)
    await env.wait_for(lambda: not ix.placeholder and (ix.original or {}).get("components"), 60)
    return ix


def buttons(message: dict) -> dict[str, str]:
    """The custom ids of a message's buttons and menus, by emoji or placeholder."""
    out = {}
    for row in message.get("components") or []:
        for item in row.get("components") or []:
            name = (item.get("emoji") or {}).get("name") or item.get("placeholder") or item["custom_id"]
            out[name] = item["custom_id"]
    return out


def cited_titles(message: dict) -> set[str]:
    """The titles of the sources an answer message shows."""
    return {e.get("title", "").split("] ", 1)[-1] for e in message.get("embeds") or []}


def feedback_rows(engine: Any) -> list[tuple]:
    """What the engine stored as feedback: (server, vote, reason, question)."""
    return engine._catalog.query("SELECT server, vote, reason, question FROM feedback ORDER BY id")
