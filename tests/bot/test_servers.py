"""End to end with two servers: each server's corpus is its own both ways (adds, questions, /sources, removal,
rebuild); /settings changes where the bot answers and who may do what, at once; an ask channel needs no mention;
private answers; settings naming another server's channels or roles are refused and nothing is stored."""

from __future__ import annotations

from typing import Any

from ..fakes.discord.payloads import EPHEMERAL
from .harness import RecordingEngine, done
from .servers import FERRY, FERRY_Q, TOLL, TOLL_Q, add_by_modal, asked, cited_titles, two_servers


def answers(env: Any, channel_id: str) -> list[dict]:
    """The bot's finished answers (those with their buttons) in a channel or thread."""
    return [m for m in env.bot_messages(channel_id) if m.get("components")]


async def test_each_servers_corpus_is_its_own_both_ways(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        a_mod, b_mod = env.member("a-mod", moderator=True), env.member("b-mod", moderator=True, server=env.b)
        added = await add_by_modal(env, a_mod, FERRY)
        assert added.text.startswith("Added ") and FERRY["title"] in added.text
        await add_by_modal(env, b_mod, TOLL, channel_id=env.b.channel_id)

        for user, channel, own, other in (
            (a_mod, env.channel_id, (FERRY_Q, FERRY), (TOLL_Q, TOLL)),
            (b_mod, env.b.channel_id, (TOLL_Q, TOLL), (FERRY_Q, FERRY)),
        ):
            mine = await asked(env, user, own[0], channel)
            assert cited_titles(mine.original) == {own[1]["title"]}
            theirs = await asked(env, user, other[0], channel)
            assert other[1]["title"] not in cited_titles(theirs.original)
            listed = await done(env, await env.slash("sources", user, channel_id=channel))
            assert own[1]["title"] in listed.text and other[1]["title"] not in listed.text
            assert f"added by <@{user.id}>" in listed.text and "shared" in listed.text  # and the seeds

        a_ids = {i.id for i in bot_engine.list_articles(server=env.guild_id) if i.server == env.guild_id}
        b_ids = {i.id for i in bot_engine.list_articles(server=env.b.id) if i.server == env.b.id}
        assert len(a_ids) == len(b_ids) == 1
        toll_id = b_ids.pop()
        assert await env.autocomplete("remove-article", a_mod, "article", "toll") == []
        refused = await done(env, await env.slash("remove-article", a_mod, article=toll_id))
        assert refused.ephemeral() and "No article" in refused.text
        assert bot_engine.list_articles("toll", server=env.b.id)

        live = bot_engine._view.live()
        toll_vectors = live.chunk_ids_of([toll_id])
        rebuilt = await done(env, await env.slash("rebuild-index", a_mod))
        await env.wait_for(lambda: "Index rebuilt" in rebuilt.text, 60)
        assert rebuilt.text.startswith("Index rebuilt: 1 article,") and live.chunk_ids_of([toll_id]) == toll_vectors
        status = await done(env, await env.slash("index-status", b_mod, channel_id=env.b.channel_id))
        fields = {f["name"]: f["value"] for f in status.original["embeds"][0]["fields"]}
        assert fields["Articles"] == "1" and int(fields["Shared articles"]) >= 2

        removed = await done(
            env, await env.slash("remove-article", b_mod, channel_id=env.b.channel_id, article=toll_id)
        )
        assert removed.text.startswith("Removed ")
        history = await done(env, await env.slash("sources", b_mod, channel_id=env.b.channel_id, removed=True))
        assert TOLL["title"] in history.text and f"by <@{b_mod.id}>" in history.text
        assert TOLL["title"] not in (await done(env, await env.slash("sources", a_mod, removed=True))).text


async def test_settings_change_where_the_bot_answers_at_once(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        mod, reader = env.member("mod", moderator=True), env.member("reader")
        desk = await env.add_channel("desk")
        shown = await done(env, await env.slash("settings", mod))
        assert shown.ephemeral() and "every channel" in shown.text
        saved = await done(env, await env.slash("settings", mod, answer_in=f"<#{desk}>"))
        assert saved.text.startswith("Saved.") and f"<#{desk}>" in saved.text

        await env.say("Which cities were hit?", reader)  # in #news: the bot keeps quiet there now
        await env.say("Which cities were hit?", reader, channel_id=desk)
        await env.wait_for(lambda: any(answers(env, t["id"]) for t in env.threads()), 60)
        assert [t["parent_id"] for t in env.threads()] == [desk] and not env.bot_messages(env.channel_id)
        refused = await done(env, await env.slash("ask", reader, question="Which cities were hit?"))
        assert refused.ephemeral() and f"I answer questions in <#{desk}>" in refused.text
        assert "Kyiv" in (await asked(env, reader, "Which cities were hit?", desk)).text

        other = env.member("other", server=env.b)  # the other server still answers everywhere
        assert "Kyiv" in (await asked(env, other, "Which cities were hit?", env.b.channel_id)).text
        await done(env, await env.slash("settings", mod, answer_in="everywhere"))
        assert "Kyiv" in (await asked(env, reader, "Which cities were hit?")).text


async def test_settings_naming_another_servers_channels_or_roles_are_refused(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        mod = env.member("mod", moderator=True)
        foreign = {
            "answer_in": f"<#{env.b.channel_id}>",
            "ask_channel": env.b.channel_id,
            "add_roles": f"<@&{env.b.plain_role['id']}>",
            "moderator_roles": f"<@&{env.b.mod_role['id']}>",
        }
        for option, value in foreign.items():
            ix = await done(env, await env.slash("settings", mod, **{option: value}))
            assert ix.ephemeral() and "belongs to another server" in ix.text and "nothing was changed" in ix.text
        digest = await done(env, await env.slash("digest", mod, channel=f"<#{env.b.channel_id}>"))
        assert digest.ephemeral() and "another server" in digest.text
        unknown = await done(env, await env.slash("settings", mod, answer_in="#nowhere"))
        assert unknown.ephemeral() and "no channel named" in unknown.text
        mixed = await done(env, await env.slash("settings", mod, private=True, add_roles=foreign["add_roles"]))
        assert mixed.ephemeral() and "another server" in mixed.text  # the valid half is not stored either
        assert bot_engine.get_server_config(env.guild_id) == {}
        member = await done(env, await env.slash("settings", env.member("reader"), private=True))
        assert member.ephemeral() and "Only moderators" in member.text
        assert bot_engine.get_server_config(env.guild_id) == {}


async def test_roles_chosen_in_settings_decide_who_adds_and_moderates(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        mod = env.member("mod", moderator=True)
        desk, reader = env.member("desk", roles=(env.plain_role["id"],)), env.member("reader")
        assert "Only moderators" in (await done(env, await env.slash("stats", desk))).text
        saved = await done(
            env,
            await env.slash("settings", mod, moderator_roles=f"<@&{env.plain_role['id']}>", add_roles="@Night Desk"),
        )  # a mention, or a name
        assert saved.text.startswith("Saved.")
        assert not (await done(env, await env.slash("stats", desk))).text.startswith("Only")
        refused = await env.slash("add-article", reader)
        await env.wait_for(lambda: refused.messages, 10)
        assert refused.ephemeral() and "roles this server's moderators chose" in refused.text
        opened = await env.slash("add-article", desk)
        await env.wait_for(lambda: opened.callbacks, 10)
        assert opened.callbacks[0]["type"] == 9  # the modal: desk may add
        b_member = env.member("b-reader", server=env.b)  # the other server keeps the defaults
        b_open = await env.slash("add-article", b_member, channel_id=env.b.channel_id)
        await env.wait_for(lambda: b_open.callbacks, 10)
        assert b_open.callbacks[0]["type"] == 9


async def test_an_ask_channel_answers_every_message_and_follow_ups_without_a_mention(bot_engine: Any) -> None:
    engine = RecordingEngine(bot_engine)
    async with two_servers(engine, message_content=True) as env:
        mod, reader = env.member("mod", moderator=True), env.member("reader")
        ask = await env.add_channel("ask")
        saved = await done(env, await env.slash("settings", mod, ask_channel=f"<#{ask}>"))
        assert f"<#{ask}>" in saved.text and "Message Content" not in saved.text
        await env.say("Hello everyone, nice weather today", reader, mention=False)  # #news: not a question
        await env.say("Which cities were hit?", reader, channel_id=ask, mention=False)
        thread = (await env.wait_for(env.threads, 60))[0]
        first = (await env.wait_for(lambda: answers(env, thread["id"]), 60))[0]
        assert thread["parent_id"] == ask and "Kyiv" in first["content"] + str(first["embeds"])
        await env.say("What about Kharkiv?", reader, channel_id=thread["id"], mention=False)
        await env.wait_for(lambda: len(answers(env, thread["id"])) == 2, 60)
        await env.say("And Zaporizhzhia?", reader, channel_id=thread["id"], mention=False)
        await env.wait_for(lambda: len(answers(env, thread["id"])) == 3, 60)
        question, history = engine.asks[-1]
        assert question == "And Zaporizhzhia?"
        assert [t.question for t in history] == ["Which cities were hit?", "What about Kharkiv?"]
        assert [q for q, _ in engine.asks] == ["Which cities were hit?", "What about Kharkiv?", "And Zaporizhzhia?"]
        assert not env.bot_messages(env.channel_id)


async def test_private_answers_per_question_and_per_server(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        mod, reader = env.member("mod", moderator=True), env.member("reader")
        private = await asked(env, reader, "Which cities were hit?", private=True)
        assert private.ephemeral() and private.original["embeds"] and not private.public_placeholder
        assert not (await asked(env, reader, "Which cities were hit?")).ephemeral()
        await done(env, await env.slash("settings", mod, private=True))
        assert (await asked(env, reader, "Which cities were hit?")).original["flags"] & EPHEMERAL
        assert not (await asked(env, reader, "Which cities were hit?", private=False)).ephemeral()
        other = env.member("other", server=env.b)
        assert not (await asked(env, other, "Which cities were hit?", env.b.channel_id)).ephemeral()
