"""End to end: 👍 / 👎 under every answer, stored with what they rate and working after a restart; 👎 asks why; a
moderator hides a source from a bad-source report and it is never cited again in that server; clicks by someone
who may not, or on an answer no longer on record, get a private message and store nothing."""

from __future__ import annotations

import json
from typing import Any

from .harness import Harness, bot_on, done, running_fake
from .servers import asked, buttons, cited_titles, feedback_rows, two_servers

CITIES = "Which cities were hit?"
SEED = "Russia escalates drone and missile strikes"


async def test_feedback_is_stored_and_the_buttons_work_after_a_restart(bot_engine: Any) -> None:
    async with running_fake() as fake:
        asker = fake.member("asker")
        async with bot_on(fake, bot_engine) as bot:
            answer = await asked(Harness(fake, bot), asker, CITIES)
        ids = buttons(answer.original)
        assert set(ids) == {"👍", "👎"} and ids["👍"].startswith("nd:rate:up:")
        async with bot_on(fake, bot_engine) as bot:  # a new process: nothing of the first one in memory
            env = Harness(fake, bot)
            down = await done(env, await fake.click(answer.original, ids["👎"], asker))
            assert down.ephemeral() and "What was wrong" in down.text
            menu = down.original
            assert menu is not None
            await fake.choose(menu, buttons(menu)["Choose a reason"], ["bad source"], asker)
            await env.wait_for(lambda: "noted as “bad source”" in (menu.get("content") or ""), 10)
            assert not menu.get("components")  # the menu is gone once answered
        ((server, vote, reason, question),) = feedback_rows(bot_engine)
        assert (server, vote, reason, question) == (fake.guild_id, -1, "bad source", CITIES)
        (stored,) = bot_engine._catalog.query("SELECT answer, cited, as_of, user FROM feedback")
        assert "Kyiv" in stored[0] and json.loads(stored[1])[0][0].endswith("-0000") and stored[3] != asker.id
        async with bot_on(fake, bot_engine) as bot:
            up = await done(Harness(fake, bot), await fake.click(answer.original, ids["👍"], asker))
            assert up.ephemeral() and "Thanks" in up.text
        assert [r[1:3] for r in feedback_rows(bot_engine)] == [(1, None)]  # the asker changed their mind


async def test_a_button_pressed_by_someone_who_may_not_is_refused_and_nothing_stored(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        asker, other = env.member("asker"), env.member("other")
        answer = await asked(env, asker, CITIES)
        before = feedback_rows(bot_engine)
        for emoji in ("👍", "👎"):
            refused = await done(env, await env.click(answer.original, buttons(answer.original)[emoji], other))
            assert refused.ephemeral() and "Only the person who asked can rate this answer." in refused.text
        assert feedback_rows(bot_engine) == before


async def test_a_click_on_an_answer_no_longer_on_record_is_refused_and_nothing_stored(bot_engine: Any) -> None:
    async with running_fake() as fake:
        asker = fake.member("asker")
        async with bot_on(fake, bot_engine) as bot:
            answer = await asked(Harness(fake, bot), asker, CITIES)
        log_id = int(buttons(answer.original)["👍"].rsplit(":", 1)[1])
        with bot_engine._catalog.transaction("prune the answer, as the retention does") as db:
            db.execute("DELETE FROM questions WHERE id = ?", (log_id,))
        before = feedback_rows(bot_engine)
        async with bot_on(fake, bot_engine) as bot:
            gone = await done(
                Harness(fake, bot), await fake.click(answer.original, buttons(answer.original)["👎"], asker)
            )
        assert gone.ephemeral() and "no longer have a record of this answer" in gone.text
        assert feedback_rows(bot_engine) == before


async def test_a_source_hidden_from_a_bad_source_report_is_never_cited_again_there(bot_engine: Any) -> None:
    async with two_servers(bot_engine) as env:
        asker, mod, member = env.member("asker"), env.member("mod", moderator=True), env.member("member")
        answer = await asked(env, asker, CITIES)
        assert any(t.startswith(SEED) for t in cited_titles(answer.original))
        down = await done(env, await env.click(answer.original, buttons(answer.original)["👎"], asker))
        await env.choose(down.original, buttons(down.original)["Choose a reason"], ["bad source"], asker)
        await env.wait_for(lambda: "noted as" in (down.original.get("content") or ""), 10)

        reports = await done(env, await env.slash("reports", mod))
        assert reports.ephemeral() and CITIES in reports.text and SEED in reports.text
        menu = reports.original
        options = menu["components"][0]["components"][0]["options"]
        hide = next(o["value"] for o in options if o["label"].startswith("Hide: ") and SEED in o["label"])
        custom_id = menu["components"][0]["components"][0]["custom_id"]
        refused = await done(env, await env.choose(menu, custom_id, [hide], member))
        assert refused.ephemeral() and "Only moderators" in refused.text
        assert bot_engine._catalog.query("SELECT COUNT(*) FROM moderation") == [(0,)]
        hidden = await env.choose(menu, custom_id, [hide], mod)
        await env.wait_for(lambda: hidden.followups, 10)  # the menu stays for more; the result comes privately
        assert hidden.followups[0]["content"].startswith("Hidden from this server's answers: **Russia")
        assert hidden.followups[0]["flags"] & 64

        for _ in range(2):
            again = await asked(env, asker, CITIES)
            assert not any(t.startswith(SEED) for t in cited_titles(again.original))
        listed = await done(env, await env.slash("sources", asker, search="Russia escalates"))
        assert "hidden" in listed.text
        elsewhere = await asked(env, env.member("b", server=env.b), CITIES, env.b.channel_id)
        assert any(t.startswith(SEED) for t in cited_titles(elsewhere.original))  # hidden in that server only
