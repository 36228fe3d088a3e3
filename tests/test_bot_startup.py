"""Start-up and streaming: command sync, the ready line, a bad token, throttled edits of a streamed answer."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from typing import Any

import pytest

from bot.main import BAD_TOKEN, run

from .conftest_bot import RecordingEngine, bot_engine, connected  # noqa: F401
from .fake_discord import FakeDiscord

COMMANDS = {"ask", "add-article", "sources", "rebuild-index", "remove-article", "index-status"}


async def test_commands_synced_to_the_guild_and_ready_logged(bot_engine: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="newsdesk.bot")
    async with connected(bot_engine) as env:
        assert set(env.commands) == COMMANDS
        assert all(c["guild_id"] == env.guild_id for c in env.commands.values())
        assert env.identify and not env.identify["intents"] & (1 << 15)  # no privileged message-content intent
    assert any("Newsdesk bot ready: logged in as Newsdesk" in r.getMessage() for r in caplog.records)


async def test_bad_token_exits_with_a_clear_message(bot_engine: Any) -> None:
    fake = await FakeDiscord().start()
    try:
        with fake.patched(), pytest.raises(SystemExit) as exited:
            await asyncio.to_thread(run, replace(bot_engine.settings, discord_token="not-the-token"), bot_engine)
    finally:
        await fake.stop()
    assert exited.value.code == BAD_TOKEN


class StreamingEngine(RecordingEngine):
    """The real engine's answer, preceded by 30 partial texts over 3 s, as an LLM answerer streams them."""

    def ask(self, question: str, **kwargs: Any) -> Any:
        answer = super().ask(question, **kwargs)
        words = answer.text.split()
        for i in range(30):
            kwargs["on_text"](" ".join(words[: 1 + i * len(words) // 30]))
            time.sleep(0.1)
        return answer


async def test_streamed_answer_edits_at_most_about_once_a_second(bot_engine: Any) -> None:
    async with connected(StreamingEngine(bot_engine)) as env:  # the fake answers 429 to > 5 edits in 5 s
        ix = await env.slash("ask", env.member("reader"), question="Which cities were hit?")
        await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 30)
        patches = [b for m, p, b in env.requests if m == "PATCH" and ix.token in p]
        assert 3 <= len(patches) <= 6
        assert all(not b.get("embeds") for b in patches[:-1]) and patches[-1]["embeds"]
        assert "Kyiv" in patches[-1]["content"]
