"""End to end in Discord (the loopback fake) with a real news site on 127.0.0.1: /feeds add, remove and list for
moderators only, and the polling task: items become cited answers, a changed page shows "updated", a broken feed
or a failing run is listed, and polling never holds up the event loop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from index import Engine, StoreError
from tests.fakes.newsroom import Newsroom
from tests.fakes.site import Reply, Site, SiteHandler

from ..engine.feed_docs import HTML_PAGE, MALFORMED
from ..fakes.discord import FakeInteraction, FakeUser
from ..fakes.discord.server import COMMAND
from .harness import EngineWrapper, Harness, connected, done, make_engine
from .servers import asked, cited_titles, two_servers


@pytest.fixture
def feed_engine(tmp_path: Path, embed_model: Any) -> Iterator[Engine]:
    """A real engine that polls every 0.6 s (so the bot's task runs often) and may fetch from 127.0.0.1."""
    engine = make_engine(
        tmp_path / "data",
        embed_model,
        seeded=False,
        fetch_allow_private=True,
        feed_poll_minutes=0.01,
        fetch_timeout=10.0,
    )
    yield engine
    engine.close()


async def feeds(
    env: Any, action: str, user: FakeUser, channel_id: str | None = None, **options: str
) -> FakeInteraction:
    """/feeds <action> with string options, answered."""
    opts = [{"name": k, "type": 3, "value": v} for k, v in options.items()]
    ix = await env.interact(
        COMMAND, "feeds", user, channel_id, {"options": [{"name": action, "type": 1, "options": opts}], "resolved": {}}
    )
    return await done(env, ix)


async def ask(env: Harness, question: str) -> dict:
    """The answer message of /ask."""
    ix = await env.slash("ask", env.member("reader"), question=question)
    await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 60)
    return ix.original or {}


async def eventually(predicate: Callable[[], Any], timeout: float = 60) -> Any:
    """Wait until predicate() is truthy, checking every 50 ms (for what happens outside Discord)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not (result := predicate()):
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return result


def listed(ix: FakeInteraction) -> str:
    return ix.original["embeds"][0]["description"] if ix.original else ""


async def test_a_moderators_feed_is_polled_into_cited_answers_and_updates_show(feed_engine: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    rail = room.publish("rail")
    async with connected(feed_engine) as env:
        mod = env.member("mod", moderator=True)
        ix = await feeds(env, "add", mod, url=room.feed_url)
        assert ix.text.startswith("Following **1. Harbour Gazette**") and not ix.ephemeral()
        await eventually(lambda: len(feed_engine.list_articles(server=env.guild_id)) == 2, 60)
        answer = await ask(env, "When do full rail services between Port Elwin and Brackenford return?")
        first = answer["embeds"][0]
        assert first["title"].startswith("[1] Rail strike ends") and first["url"] == rail
        assert first["footer"]["text"] == f"Harbour Gazette · {date.today().isoformat()}"

        paragraphs = list(room.pages["rail"].paragraphs)
        paragraphs[2] = "Full services between Port Elwin and Brackenford return on Saturday afternoon."
        room.edit("rail", paragraphs)
        await eventually(lambda: any("Saturday" in c.text for c in feed_engine._catalog.chunks(first_id(env))), 60)
        answer = await ask(env, "When do full rail services between Port Elwin and Brackenford return?")
        assert f"updated {date.today().isoformat()}" in answer["embeds"][0]["footer"]["text"]
        assert "Saturday" in answer["content"]

        shown = listed(await feeds(env, "list", mod))
        assert "**1. Harbour Gazette**" in shown and "2 item(s) added" in shown and "Last error" not in shown


def first_id(env: Harness) -> str:
    return next(a.id for a in env.bot.engine.list_articles(server=env.guild_id) if a.title.startswith("Rail strike"))


class FailingStore(EngineWrapper):
    """poll_feeds fails (as with a full disk) while `failing` is set."""

    def __init__(self, engine: Any) -> None:
        super().__init__(engine)
        self.calls, self.failing = 0, True

    def poll_feeds(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.failing:
            raise StoreError("Could not save the articles: the disk is full (free some space and try again).")
        return self._engine.poll_feeds(*args, **kwargs)


async def test_failures_are_listed_and_polling_goes_on(feed_engine: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("wildfire")
    engine = FailingStore(feed_engine)
    async with connected(engine) as env:
        mod = env.member("mod", moderator=True)
        await feeds(env, "add", mod, url=room.feed_url)
        await eventually(lambda: engine.calls >= 2, 30)  # the task goes on after a failed run
        shown = listed(await feeds(env, "list", mod))
        assert "⚠ The last polling run failed: Could not save the articles: the disk is full" in shown
        engine.failing = False
        await eventually(lambda: len(feed_engine.list_articles(server=env.guild_id)) == 1, 60)

        site.routes[room.feed_path] = Reply(MALFORMED)
        await eventually(lambda: feed_engine.list_feeds(server=env.guild_id)[0].last_error, 30)
        shown = listed(await feeds(env, "list", mod))
        assert "Last error (" in shown and "The feed is not well-formed XML (mismatched tag" in shown
        assert "⚠" not in shown and "1 item(s) added" in shown
        answer = await ask(env, "How many hectares did the wildfire near Pine Ridge burn?")  # still answering
        assert answer["embeds"][0]["title"].startswith("[1] Wildfire near Pine Ridge")


async def test_feeds_commands_are_for_moderators_only(feed_engine: Engine, site: Site) -> None:
    room = Newsroom(site)
    async with connected(feed_engine) as env:
        member = env.member("reader")
        for action, options in (("add", {"url": room.feed_url}), ("list", {}), ("remove", {"feed": "1"})):
            ix = await feeds(env, action, member, **options)
            assert ix.ephemeral() and "Only moderators" in ix.text, action
        assert feed_engine.list_feeds(server=env.guild_id) == [] and site.requests == []
        assert int(env.commands["feeds"]["default_member_permissions"]) == 1 << 5  # a hint; the check is in code


async def test_a_bad_feed_is_refused_and_a_feed_removed(feed_engine: Engine, site: Site) -> None:
    site.routes["/page"] = Reply(HTML_PAGE, "text/html")
    room = Newsroom(site)
    async with connected(feed_engine) as env:
        mod = env.member("mod", moderator=True)
        ix = await feeds(env, "add", mod, url=f"{site.base}/page")
        assert ix.ephemeral() and "not a feed or sitemap" in ix.text
        assert feed_engine.list_feeds(server=env.guild_id) == []
        await feeds(env, "add", mod, url=room.feed_url)
        choices = await env.interact(
            4,
            "feeds",
            mod,
            None,
            {
                "options": [
                    {
                        "name": "remove",
                        "type": 1,
                        "options": [{"name": "feed", "type": 3, "value": "gaz", "focused": True}],
                    }
                ]
            },
        )
        await env.wait_for(lambda: choices.callbacks, 10)
        assert choices.callbacks[0]["data"]["choices"] == [{"name": "1. Harbour Gazette", "value": "1"}]
        ix = await feeds(env, "remove", mod, feed="1")
        assert ix.text.startswith("Stopped following **Harbour Gazette**")
        assert feed_engine.list_feeds(server=env.guild_id) == []
        assert "No feeds yet" in listed(await feeds(env, "list", mod))


async def test_polling_runs_off_the_event_loop(feed_engine: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("library")
    reached, release, reached_at = threading.Event(), threading.Event(), [0.0]
    serve = site.routes[room.feed_path]

    def slow(handler: SiteHandler) -> None:  # the feed answers only when the test lets it (or after 5 s)
        reached_at[0] = time.monotonic()
        reached.set()
        release.wait(5)
        serve(handler)  # type: ignore[operator]

    async with connected(feed_engine) as env:
        mod = env.member("mod", moderator=True)
        await feeds(env, "add", mod, url=room.feed_url)
        site.routes[room.feed_path] = slow
        try:
            await eventually(reached.is_set, 30)  # a poll is waiting on the feed now...
            assert time.monotonic() - reached_at[0] < 1.0  # ...and the event loop is free to see it
            ix = await feeds(env, "list", mod)
            assert not release.is_set() and ix.acked_after is not None and ix.acked_after < 1.0
            assert "Harbour Gazette" in listed(ix)
        finally:
            release.set()
        await eventually(lambda: len(feed_engine.list_articles(server=env.guild_id)) == 1, 60)


async def test_a_servers_feeds_are_its_own_and_shared_feeds_are_everyones(feed_engine: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    harbour = "When did the harbour at Port Elwin reopen after the storm?"
    async with two_servers(feed_engine) as env:
        a_mod, b_mod = env.member("a-mod", moderator=True), env.member("b-mod", moderator=True, server=env.b)
        await feeds(env, "add", a_mod, url=room.feed_url)
        await eventually(lambda: len(feed_engine.list_articles(server=env.guild_id)) == 1, 60)
        title = feed_engine.list_articles(server=env.guild_id)[0].title
        assert title in cited_titles((await asked(env, a_mod, harbour)).original)
        assert feed_engine.list_articles(server=env.b.id) == []
        assert title not in cited_titles((await asked(env, b_mod, harbour, env.b.channel_id)).original)

        assert "No feeds yet" in listed(await feeds(env, "list", b_mod, env.b.channel_id))
        choices = await env.interact(
            4,
            "feeds",
            b_mod,
            env.b.channel_id,
            {
                "options": [
                    {
                        "name": "remove",
                        "type": 1,
                        "options": [{"name": "feed", "type": 3, "value": "", "focused": True}],
                    }
                ]
            },
        )
        await env.wait_for(lambda: choices.callbacks, 10)
        assert choices.callbacks[0]["data"]["choices"] == []
        for feed in ("1", room.feed_url):
            refused = await feeds(env, "remove", b_mod, env.b.channel_id, feed=feed)
            assert refused.ephemeral() and "No feed" in refused.text
        assert [f.url for f in feed_engine.list_feeds(server=env.guild_id)] == [room.feed_url]

        shared = await asyncio.to_thread(feed_engine.add_feed, room.feed_url)  # the operator's, for every server
        shown = listed(await feeds(env, "list", b_mod, env.b.channel_id))
        assert f"**{shared.id}. Harbour Gazette** (shared)" in shown and "**1. " not in shown
        await eventually(lambda: feed_engine.list_articles(server=env.b.id), 60)
        assert title in cited_titles((await asked(env, b_mod, harbour, env.b.channel_id)).original)
        choices = await env.interact(
            4,
            "feeds",
            b_mod,
            env.b.channel_id,
            {
                "options": [
                    {
                        "name": "remove",
                        "type": 1,
                        "options": [{"name": "feed", "type": 3, "value": "", "focused": True}],
                    }
                ]
            },
        )
        await env.wait_for(lambda: choices.callbacks, 10)
        assert choices.callbacks[0]["data"]["choices"] == []  # the shared feed is the operator's to remove

        shown = listed(await feeds(env, "list", a_mod))
        assert "**1. Harbour Gazette** <" in shown and f"**{shared.id}. Harbour Gazette** (shared)" in shown
        removed = await feeds(env, "remove", a_mod, feed="1")
        assert removed.text.startswith("Stopped following **Harbour Gazette**")
        assert [f.id for f in feed_engine.list_feeds(server=env.guild_id)] == [shared.id]
