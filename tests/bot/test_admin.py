"""End to end: moderator commands (checked in code) — /rebuild-index with progress, /remove-article, /index-status."""

from __future__ import annotations

from typing import Any

from index import RebuildInProgress

from .harness import EngineWrapper, Harness, HastyEngine, SlowRebuild, connected, done


def edits(env: Harness, token: str) -> list[str]:
    """Contents of the edits made to an interaction's original response, in order."""
    return [b.get("content") or "" for m, p, b in env.requests if m == "PATCH" and token in p and "@original" in p]


async def test_rebuild_by_a_moderator_shows_progress(discord_env: Harness) -> None:
    env = discord_env
    await env.bot.run_engine(
        env.bot.engine.add_text,
        "Ferry strike ends in Helsinki",  # the server's own corpus
        "Ferry crews in Helsinki ended their strike after a pay deal on Tuesday. " * 3,
        server=env.guild_id,
        lane="write",
    )
    ix = await done(env, await env.slash("rebuild-index", env.member("mod", moderator=True)))
    await env.wait_for(lambda: "Index rebuilt" in ix.text, 60)
    steps = edits(env, ix.token)
    assert all(s.startswith("Rebuilding the index…") for s in steps[:-1])  # counts: see the next test
    assert steps[-1].startswith("Index rebuilt: 1 article, 1 chunk ") and not ix.ephemeral()
    assert int(env.commands["rebuild-index"]["default_member_permissions"]) == 1 << 5  # a hint only...


async def test_progress_faster_than_edits_are_allowed_is_coalesced(bot_engine: Any) -> None:
    engine = HastyEngine(bot_engine)
    async with connected(engine) as env:  # the fake answers 429 to a 6th edit of one message within its window
        ix = await done(env, await env.slash("rebuild-index", env.member("mod", moderator=True)))
        await env.wait_for(lambda: "Index rebuilt" in ix.text, 60)
        steps = edits(env, ix.token)
    assert 2 <= len(steps) < engine.burst and steps[0] == "Rebuilding the index… ▱▱▱▱▱▱▱▱▱▱ 0/40 articles (0%)"


async def test_moderator_commands_are_refused_for_members(discord_env: Harness) -> None:
    env, member = discord_env, discord_env.member("reader")  # ...the check in code is what counts
    collection, articles = env.bot.engine.status().collection, env.bot.engine.list_articles()
    for name, options in (("rebuild-index", {}), ("remove-article", {"article": articles[0].id}), ("index-status", {})):
        ix = await done(env, await env.slash(name, member, **options))
        assert ix.ephemeral() and "Only moderators" in ix.text, name
    assert env.bot.engine.status().collection == collection and env.bot.engine.list_articles() == articles


async def test_moderator_role_setting(bot_engine: Any) -> None:
    async with connected(bot_engine, moderator_role="Night Desk") as env:
        member = env.member("desk", roles=(env.plain_role["id"],))
        ix = await done(env, await env.slash("index-status", member))
        fields = {f["name"]: f["value"] for f in ix.original["embeds"][0]["fields"]}
        assert ix.ephemeral() and int(fields["Shared articles"]) >= 2 and fields["Rebuilding"] == "no"


async def test_remove_article_with_autocomplete(discord_env: Harness) -> None:
    env, mod = discord_env, discord_env.member("mod", moderator=True)
    await env.bot.run_engine(
        env.bot.engine.add_text,
        "Ferry strike ends in Helsinki",
        "Ferry crews in Helsinki ended their strike after a pay deal on Tuesday. " * 3,
        server=env.guild_id,
        lane="write",
    )
    choices = await env.autocomplete("remove-article", mod, "article", "ferry strike")
    assert [c["name"] for c in choices] == ["Ferry strike ends in Helsinki"]
    ix = await done(env, await env.slash("remove-article", mod, article=choices[0]["value"]))
    assert ix.text == "Removed **Ferry strike ends in Helsinki** (1 chunk)."  # no outlet or date known: none shown
    assert env.bot.engine.list_articles("Ferry", server=env.guild_id) == []
    again = await done(env, await env.slash("remove-article", mod, article=choices[0]["value"]))
    assert again.ephemeral() and "No article" in again.text and not again.public_placeholder


class RebuildRunning(EngineWrapper):
    """The engine while another rebuild runs (started elsewhere, e.g. by the CLI)."""

    rebuilding = True

    def rebuild(self, progress: Any = None) -> Any:
        raise RebuildInProgress("A rebuild is already running.")


async def test_rebuild_while_one_runs_is_refused_privately_at_once(bot_engine: Any) -> None:
    async with connected(RebuildRunning(bot_engine)) as env:
        ix = await done(env, await env.slash("rebuild-index", env.member("mod", moderator=True)))
    assert ix.ephemeral() and "already running" in ix.text and not ix.public_placeholder


async def test_a_rebuild_outliving_the_reply_token_carries_on_in_a_channel_message(bot_engine: Any) -> None:
    # The token lives 4 s here (15 min on Discord); the bot hands over after 2 s (14 min); the rebuild takes 5 s+.
    async with connected(SlowRebuild(bot_engine, 5), token_lifetime=4, progress_handover=2) as env:
        ix = await env.slash("rebuild-index", env.member("mod", moderator=True))
        channel = f"/channels/{env.channel_id}/messages"
        await env.wait_for(
            lambda: any(
                m == "PATCH"
                and p.startswith(f"/api/v10{channel}/")
                and (b or {}).get("content", "").startswith("Index rebuilt")
                for m, p, b in env.requests
            ),
            60,
        )
        posted = [b for m, p, b in env.requests if m == "POST" and p == f"/api/v10{channel}"]
        moved = [m for m in env.bot_messages(env.channel_id) if m["id"] != ix.original["id"]]
    assert len(posted) == 1 and posted[0]["content"].startswith("Rebuilding the index… ")  # posted once...
    assert len(moved) == 1 and moved[0]["content"].startswith("Index rebuilt: ")  # ...then edited to the end
    reply = ix.original["content"]
    assert "%" not in reply and "Progress continues here: " in reply and moved[0]["id"] in reply  # points there
