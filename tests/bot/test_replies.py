"""End to end: how an answer reads in Discord — nothing said twice, a quoted headline set apart and never cut
with "...", sources marked where their quotes sit."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pytest

from bot.render import MARK_WORDS

from .harness import RecordingEngine, connected, make_engine

TRAM = "Tram line 9 extended to Vesna harbour, the city's ..."  # cut short by its source, as 44 % of the corpus's are
SHOWN = "Tram line 9 extended to Vesna harbour"
BODY = (
    "Tram line 9 now runs from the old town to Vesna harbour, the city transport office said on Friday. "
    "The extension adds four stops and a depot at the ferry terminal. Work on the line began in 2022 and cost "
    "40 million euros. Residents of the harbour district had campaigned for the link for a decade."
)


@pytest.fixture(scope="module")
def tram_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Any:
    """The seeded real engine plus one tram article whose headline its source cut short."""
    engine = make_engine(tmp_path_factory.mktemp("replies"), embed_model)
    engine.add_text(TRAM, BODY, outlet="Harbour Herald", published=date(2024, 5, 3))
    yield engine
    engine.close()


def final_answer(env: Any, token: str) -> dict:
    return [b for m, p, b in env.requests if m == "PATCH" and token in p][-1]


def said(content: str) -> list[str]:
    """The answer's sentences as shown (markdown and citation markers taken off)."""
    body = content.split("\n-# ")[0]
    return [s.strip(" *\n") for s in re.split(r"(?:\s*\[\d+\])+", body) if s.strip(" *\n")]


async def test_a_quoted_headline_stands_apart_and_nothing_is_said_twice(tram_engine: Any) -> None:
    async with connected(tram_engine) as env:
        ix = await env.slash("ask", env.member("reader"), question="Where was tram line 9 extended to?")
        await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 30)
        answer = final_answer(env, ix.token)
    content, cards = answer["content"], answer["embeds"]
    lines = content.split("\n")
    headline = rf"(?:\*\*{re.escape(SHOWN)}\*\*|\*\*[^*\n]+\*\* — {re.escape(SHOWN)})"  # after a short answer in bold
    assert any(re.fullmatch(rf"{headline}( \[\d+\])+", line) for line in lines), content
    assert "..." not in content + str(cards)  # the cut headline ends at its last whole phrase
    tram = next(c for c in cards if SHOWN in c["title"])
    assert not tram["description"].removeprefix("> ").startswith(SHOWN)  # the title is not repeated as a quote
    for sentence in said(content):
        for card in cards:
            if len(sentence.split()) > MARK_WORDS:
                assert sentence not in card["description"], (sentence, card["description"])
    assert "**" in tram["description"] and "The extension adds four stops" in tram["description"]


async def test_a_follow_up_reads_the_earlier_answer_without_its_markdown(tram_engine: Any) -> None:
    engine = RecordingEngine(tram_engine)
    async with connected(engine) as env:
        user = env.member("reader")
        await env.say("Where was tram line 9 extended to?", user)
        thread = (await env.wait_for(env.threads, 30))[0]
        await env.wait_for(lambda: [m for m in env.bot_messages(thread["id"]) if m.get("embeds")], 30)
        await env.say("How many stops does it add?", user, channel_id=thread["id"])
        await env.wait_for(
            lambda: len(engine.asks) == 2 and len([m for m in env.bot_messages(thread["id"]) if m.get("embeds")]) == 2,
            30,
        )
    history = engine.asks[-1][1]
    assert len(history) == 1 and SHOWN in history[0].answer and "**" not in history[0].answer
