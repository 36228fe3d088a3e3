"""Start-up and streaming: command sync, the ready line, a bad token, throttled edits of an LLM answer as it streams."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from bot.main import BAD_TOKEN, run
from bot.settings import DiscordSettings

from ..fakes.discord import FakeDiscord
from ..fakes.openai import FakeOpenAI, Reply
from .harness import connected, make_engine

COMMANDS = {
    "ask",
    "add-article",
    "sources",
    "rebuild-index",
    "remove-article",
    "index-status",
    "settings",
    "reports",
    "stats",
    "digest",
    "feeds",
}


async def test_commands_synced_to_the_guild_and_ready_logged(bot_engine: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="newsdesk.bot")
    async with connected(bot_engine) as env:
        assert set(env.commands) == COMMANDS
        assert all(c["guild_id"] == env.guild_id for c in env.commands.values())
        identify = env.gateway.identify
        assert identify and not identify["intents"] & (1 << 15)  # no privileged message-content intent
    assert any("Newsdesk bot ready: logged in as Newsdesk" in r.getMessage() for r in caplog.records)


async def test_bad_token_exits_with_a_clear_message(bot_engine: Any) -> None:
    fake = await FakeDiscord().start()
    try:
        with fake.patched(), pytest.raises(SystemExit) as exited:
            await asyncio.to_thread(run, bot_engine.settings, DiscordSettings(token="not-the-token"), engine=bot_engine)
    finally:
        await fake.stop()
    assert exited.value.code == BAD_TOKEN


@pytest.fixture(scope="module")
def llm() -> Any:
    """A scripted OpenAI-compatible server on loopback."""
    with FakeOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def llm_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any, llm: FakeOpenAI) -> Any:
    """A seeded real engine whose answers are written by the (fake) LLM and streamed."""
    engine = make_engine(
        tmp_path_factory.mktemp("llm-engine"),
        embed_model,
        llm_base_url=llm.base_url,
        llm_model="fake-model",
        llm_timeout=10,
    )
    yield engine
    engine.close()


REPLY = (
    "Ukrainian air defense systems have been pushed to their limits as waves of aerial attacks targeted "
    "urban centers including Kyiv, Kharkiv, and Zaporizhzhia [1]."
)  # 24 words


def edits(env: Any, token: str) -> list[dict]:
    """Bodies of the edits of an interaction's original response, in order."""
    return [b for m, p, b in env.requests if m == "PATCH" and token in p]


async def test_streamed_answer_is_shown_as_it_arrives(llm_engine: Any, llm: FakeOpenAI) -> None:
    llm.script(Reply(REPLY, chunk_delay=0.03, words_per_chunk=1))  # 0.7 s; the engine passes text on every 0.25 s
    async with connected(llm_engine) as env:
        ix = await env.slash("ask", env.member("reader"), question="Which cities were hit?")
        await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 30)
        patches = edits(env, ix.token)
    streamed = [b["content"] for b in patches[:-1]]
    assert len(streamed) >= 2 and all(not b.get("embeds") for b in patches[:-1])
    assert all(len(a) < len(b) for a, b in zip(streamed, streamed[1:], strict=False))  # the text so far, growing
    assert all(city in patches[-1]["content"] for city in ("Kyiv", "Kharkiv", "Zaporizhzhia"))
    assert patches[-1]["embeds"] and "[1]" in patches[-1]["content"]


@pytest.mark.slow
async def test_streamed_answer_at_real_intervals_edits_at_most_about_once_a_second(
    llm_engine: Any, llm: FakeOpenAI
) -> None:
    llm.script(Reply(REPLY, chunk_delay=0.15, words_per_chunk=1))  # about 3.6 s of streaming
    async with connected(llm_engine, time_scale=1) as env:  # the fake answers 429 to > 5 edits in 5 s on one message
        ix = await env.slash("ask", env.member("reader"), question="Which cities were hit?")
        await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 30)
        patches = edits(env, ix.token)
    assert 3 <= len(patches) <= 5
    streamed = [b["content"] for b in patches[:-1]]
    assert all(not b.get("embeds") for b in patches[:-1]) and streamed[0] != streamed[-1]
    assert all(city in patches[-1]["content"] for city in ("Kyiv", "Kharkiv", "Zaporizhzhia"))
    assert patches[-1]["embeds"] and "[1]" in patches[-1]["content"]
