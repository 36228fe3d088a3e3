"""End to end: /stats counts what each server asked (and only moderators see it); /digest posts a server's daily
digest in its channel once, and skips a day with nothing new."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from datetime import time as dtime
from typing import Any

import pytest

from .harness import Harness, bot_on, done, make_engine, running_fake, until
from .servers import FERRY, TOLL, add_by_modal, asked, two_servers

QUESTIONS = ("Which cities were hit?", "What is the best recipe for banana bread?", "Which cities were hit?")


async def test_stats_count_what_each_server_asked(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        mod, reader = env.member("mod", moderator=True), env.member("reader")
        for question in QUESTIONS:
            await asked(env, reader, question)
        await asked(env, env.member("b-reader", server=env.b), "Which cities were hit?", env.b.channel_id)
        refused = await done(env, await env.slash("stats", reader))
        assert refused.ephemeral() and "Only moderators" in refused.text
        shown = await done(env, await env.slash("stats", mod, days=7))
        embed = shown.original["embeds"][0]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert shown.ephemeral() and embed["description"].startswith("**3** asked, **1** not covered (33%)")
        today = datetime.now(UTC).date().isoformat()
        assert fields["Per day (UTC)"] == f"`{today}` 3 asked, 1 not covered"
        assert "banana bread" in fields["Coverage gaps (not covered, grouped)"]
        other = await done(
            env,
            await env.slash("stats", env.member("b-mod", moderator=True, server=env.b), channel_id=env.b.channel_id),
        )
        assert other.original["embeds"][0]["description"].startswith("**1** asked, **0** not covered")


@pytest.fixture
def fresh_engine(tmp_path: Any, embed_model: Any) -> Any:
    """An engine with no articles (no seeds: nothing is new today until a server adds something)."""
    engine = make_engine(tmp_path / "data", embed_model, seeded=False)
    yield engine
    engine.close()


def digests(env: Any, channel_id: str) -> list[dict]:
    return [m for m in env.bot_messages(channel_id) if m["content"].startswith("**Top stories")]


async def test_a_digest_is_posted_once_a_day_and_skipped_when_nothing_is_new(fresh_engine: Any) -> None:
    today = datetime.now(UTC).date()
    stamped = [{**a, "published": today.isoformat()} for a in (FERRY, TOLL)]
    async with running_fake() as fake:
        b = fake.add_server("Quiet Newsroom")
        mod, b_mod = fake.member("mod", moderator=True), fake.member("b-mod", moderator=True, server=b)
        async with bot_on(fake, fresh_engine, guild_id=None, digest_check_seconds=0.05) as bot:
            env = Harness(fake, bot)
            for article in stamped:
                await add_by_modal(env, mod, article)
            set_b = await done(
                env,
                await fake.slash("digest", b_mod, channel_id=b.channel_id, channel=f"<#{b.channel_id}>", time="00:00"),
            )
            assert set_b.text.startswith("Saved. Daily digest:")
            set_a = await done(env, await fake.slash("digest", mod, channel="news", time="00:00"))
            assert f"<#{fake.channel_id}> at 00:00 UTC" in set_a.text
            posted = await env.wait_for(lambda: digests(env, fake.channel_id), 30)
            await until(lambda: fresh_engine.digest_status(b.id, today) == "skipped")
            await asyncio.sleep(0.5)  # ten more rounds of the poster
            assert fresh_engine.digest_status(fake.guild_id, today) == "posted"
        async with bot_on(fake, fresh_engine, guild_id=None, digest_check_seconds=0.05) as bot:
            await bot.get_cog("Digest").post_due(datetime.now(UTC))  # a restart does not post it again
    assert len(digests(env, fake.channel_id)) == 1 and not digests(env, b.channel_id)
    text = posted[0]["content"]
    assert f"**Top stories, {today.isoformat()}**" in text and "[1]" in text and "[2]" in text
    titles = {e["title"].split("] ", 1)[1] for e in posted[0]["embeds"]}
    assert titles == {FERRY["title"], TOLL["title"]}
    assert fresh_engine.digest_status(fake.guild_id, date.fromordinal(today.toordinal() - 1)) is None


async def test_a_digest_waits_for_its_time_of_day(fresh_engine: Any) -> None:
    today = datetime.now(UTC).date()
    async with running_fake() as fake:
        mod = fake.member("mod", moderator=True)
        async with bot_on(fake, fresh_engine, digest_check_seconds=3600) as bot:  # rounds run by hand here
            env = Harness(fake, bot)
            await add_by_modal(env, mod, {**FERRY, "published": today.isoformat()})
            await done(env, await fake.slash("digest", mod, channel=f"<#{fake.channel_id}>", time="12:00"))
            poster = bot.get_cog("Digest")
            await poster.post_due(datetime.combine(today, dtime(11, 59), tzinfo=UTC))
            assert not digests(env, fake.channel_id) and fresh_engine.digest_status(fake.guild_id, today) is None
            await poster.post_due(datetime.combine(today, dtime(12, 0), tzinfo=UTC))
            assert len(digests(env, fake.channel_id)) == 1
