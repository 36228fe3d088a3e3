"""End to end: questions have their own lane, so adds (and other writes) in progress never hold an answer back."""

from __future__ import annotations

from typing import Any

from .harness import HeldAdds, connected, done, until

NOTE = "Note {i}: the river ferry in town {i} resumed service on Monday after repairs to its engine. " * 4


async def test_a_question_is_answered_while_two_adds_are_in_progress(bot_engine: Any) -> None:
    engine = HeldAdds(bot_engine)
    async with connected(engine) as env:
        try:
            adds = [
                await env.slash(
                    "add-article",
                    env.member(f"editor{i}"),
                    file=env.attachment(f"ferry{i}.txt", NOTE.format(i=i).encode()),
                )
                for i in range(2)
            ]
            await until(lambda: engine.waiting == 2)  # both adds hold a write slot
            ix = await env.slash("ask", env.member("reader"), question="Which cities were hit?")
            await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 20)
            assert engine.waiting == 2 and not any("Added" in a.text for a in adds)  # answered while the adds run
        finally:
            engine.release()
        for a in adds:
            assert (await done(env, a)).text.startswith(("Added", "Already there"))
