"""End to end: /ask, @mentions, thread follow-ups, safety of echoed text, rate limits."""

from __future__ import annotations

from .conftest_bot import Harness, bot_engine, bot_errors, connected, discord_env  # noqa: F401


async def test_ask_answers_with_citations_in_embeds(discord_env: Harness) -> None:
    env = discord_env
    user = env.member("reader")
    ix = await env.slash("ask", user, question="Which cities were hit?")
    await env.wait_for(lambda: ix.original and ix.original.get("embeds"), 30)
    assert ix.acked_after is not None and ix.acked_after < 3
    assert ix.callbacks[0]["type"] == 5  # deferred at once
    text = ix.text
    for city in ("Kyiv", "Kharkiv", "Zaporizhzhia"):
        assert city in text
    assert "[1]" in ix.original["content"]
    embed = ix.original["embeds"][0]
    assert embed["title"].startswith("[1] ") and embed["description"].startswith("> ")
    assert not ix.ephemeral()
