"""Each answer shape through the real bot and the loopback fake Discord, which refuses any message beyond Discord's
limits: headings, dated items, figures over time and 'also reported by' in a source card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from bot.render import render_answer
from index import Answer, Citation, Passage, Sentence
from index.results import Figure, Update

from ..engine import story_docs as docs
from ..fakes.discord.rules import message_errors
from .harness import EngineWrapper, Harness, connected, make_engine

AS_OF = date(2024, 9, 13)


class AsOfEngine(EngineWrapper):
    """The engine answering as of a fixed date (the bot asks as of today)."""

    def ask(self, question: str, **kwargs: Any) -> Any:
        return self._engine.ask(question, as_of=AS_OF, **kwargs)


@pytest.fixture(scope="module")
def story_engine(tmp_path_factory: pytest.TempPathFactory, embed_model: Any) -> Any:
    engine = make_engine(tmp_path_factory.mktemp("bot-stories"), embed_model, seeded=False)
    engine.add_articles(docs.ALL)
    yield engine
    engine.close()


@pytest.fixture
async def env(story_engine: Any) -> AsyncIterator[Harness]:
    async with connected(AsOfEngine(story_engine)) as harness:  # fails on any Discord rule broken
        yield harness


@pytest.mark.parametrize(
    "question, shown",
    [
        ("What is the latest on Hurricane Delia?", "As of 2024-09-12"),
        ("What has changed since Wednesday with Hurricane Delia?", "Since 2024-09-11"),
        ("Give me a timeline of Hurricane Delia", "Timeline:"),
        ("Summarise this week's news", "Top stories from 2024-09-07 to 2024-09-13"),
        ("Compare Gulf Herald and Bay Courier on Hurricane Delia", "How Gulf Herald and Bay Courier covered"),
        ("How many people did Hurricane Delia kill?", "outlets differ on people"),
    ],
)
async def test_every_shape_renders_within_discords_limits(env: Harness, question: str, shown: str) -> None:
    ix = await env.slash("ask", env.member("reader"), question=question)
    await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 60)
    content = ix.original["content"]
    assert shown in content and len(content) <= 2000
    assert message_errors({"content": content, "embeds": ix.original["embeds"]}, creating=False) == {}


async def test_a_timeline_card_says_who_else_carried_the_copy(env: Harness) -> None:
    ix = await env.slash("ask", env.member("reader"), question="Give me a timeline of Hurricane Delia")
    await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 60)
    first = ix.original["embeds"][0]
    assert first["footer"]["text"] == "Gulf Herald · 2024-09-10 · also reported by Coastal Times"
    assert ix.original["content"].splitlines()[1].startswith("2024-09-10, Gulf Herald: ")


def _huge_shaped_answer() -> Answer:
    sources = tuple(
        Citation(
            n,
            Passage(
                f"c{n}",
                f"a{n}",
                "Words of the report. " * 300,
                "H" * 400,
                "Outlet " + "x" * 90,
                date(2024, 9, n),
                "https://news.example/a",
            ),
            also=("Other " * 40,) * 5,
        )
        for n in range(1, 13)
    )
    items = tuple(
        Sentence(
            "A long dated item " + "word " * 60 + ".",
            (n,),
            day=date(2024, 9, n),
            label=f"2024-09-{n:02d}, Outlet {'x' * 90}",
        )
        for n in range(1, 13)
    )
    updates = tuple(
        Update("people", "update", tuple(Figure(str(10 * n), date(2024, 9, n), "Outlet", n) for n in range(1, 13)))
        for _ in range(8)
    )
    return Answer(
        "q",
        items,
        sources,
        AS_OF,
        shape="timeline",
        heading="Timeline: " + "very long " * 80,
        updates=updates,
        notes=("a note " * 30,),
    )


def test_a_huge_shaped_answer_is_shortened_within_the_limits() -> None:
    rendered = render_answer(_huge_shaped_answer())
    assert (
        message_errors({"content": rendered.content, "embeds": [e.to_dict() for e in rendered.embeds]}, creating=True)
        == {}
    )
    assert rendered.content.startswith("Timeline: very long") and rendered.embeds
