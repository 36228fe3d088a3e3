"""Load: 50 questions and 10 adds arriving at once are all acknowledged within 3 s and answered; heartbeats flow."""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

import pytest

from ..fakes.discord import FakeInteraction
from .harness import connected

QUESTIONS = [
    "Which cities were hit?",
    "What happened a day before the peace talks?",
    "Which infrastructure was damaged by the strikes?",
    "What did Ukrainian air defences face?",
    "Were there civilian casualties?",
]
ADD = "Note {i}: the river ferry in town {i} resumed service on Monday after repairs to its engine. " * 4


def finished(ix: FakeInteraction) -> bool:
    """An answer with sources, or an add's confirmation."""
    original = ix.original or {}
    return bool(original.get("embeds")) if ix.name == "ask" else original.get("content", "").startswith("Added")


@pytest.mark.slow
async def test_fifty_questions_and_ten_adds_at_once(bot_engine: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="discord.gateway")
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    async with connected(bot_engine, heartbeat_ms=1000, time_scale=1) as env:  # real intervals; a heartbeat a second
        started = time.monotonic()
        sent = [
            await env.slash("ask", env.member(f"reader{i}"), question=QUESTIONS[i % len(QUESTIONS)]) for i in range(50)
        ]
        sent += [
            await env.slash(
                "add-article", env.member(f"editor{i}"), file=env.attachment(f"ferry{i}.txt", ADD.format(i=i).encode())
            )
            for i in range(10)
        ]
        await env.wait_for(lambda: all(ix.callbacks for ix in sent), 10)
        slowest_ack = max(ix.acked_after or 0 for ix in sent)
        await env.wait_for(lambda: all(finished(ix) for ix in sent), 300)
        elapsed = time.monotonic() - started
        beats = env.gateway.heartbeats
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gaps = [b - a for a, b in zip(beats, beats[1:], strict=False)]
    print(
        f"\nload: 60 interactions; slowest acknowledgement {slowest_ack:.2f} s; last answer after {elapsed:.1f} s; "
        f"{len(beats)} heartbeats, longest gap {max(gaps, default=0):.2f} s; "
        f"peak RSS {rss_peak:.0f} MB (before the load {rss_before:.0f} MB)"
    )
    assert slowest_ack < 3
    assert not [r for r in caplog.records if "heartbeat blocked" in r.getMessage() or "behind" in r.getMessage()]
    assert len(beats) >= elapsed - 2 and max(gaps, default=0) < 3
