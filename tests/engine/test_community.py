"""What the engine records for communities: the question log (hashed askers, retention), feedback and reports,
moderation from a report, statistics with coverage gaps, digests, server settings."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from index.articles import Article
from index.engine import Engine
from index.errors import InvalidInput, NotPermitted, UnknownRecord
from index.stats import coverage_gaps

from .test_servers import FERRY, FERRY_Q, TOLL

ALICE, BOB = "discord:314159265358979", "discord:271828182845904"


def _rows(engine: Engine, sql: str, params: tuple = ()) -> list[tuple]:
    return engine._catalog.query(sql, params)


def test_a_question_is_logged_with_what_was_cited_and_a_hashed_asker(seeded: Engine) -> None:
    seeded.add_article(FERRY, server="A")
    answer = seeded.ask(FERRY_Q, server="A", asker=ALICE, as_of=date(2025, 2, 10))
    ((server, question, covered, cited, ms, asker),) = _rows(
        seeded, "SELECT server, question, covered, cited, ms, asker FROM questions WHERE id = ?", (answer.log_id,)
    )
    assert (server, question, covered) == ("A", FERRY_Q, 1) and ms >= 0
    assert answer.citations[0].passage.chunk_id in cited and answer.citations[0].passage.article_id in cited
    assert asker and len(asker) == 64 and ALICE.split(":")[1] not in asker
    raw = b"".join(p.read_bytes() for p in seeded.settings.data_dir.glob("newsdesk.sqlite3*"))
    assert ALICE.encode() not in raw and ALICE.split(":")[1].encode() not in raw
    missed = seeded.ask("What is the best recipe for banana bread?", server="A", asker=ALICE)
    assert _rows(seeded, "SELECT covered FROM questions WHERE id = ?", (missed.log_id,)) == [(0,)]


def test_the_log_can_be_turned_off(settings: Any, embed_model: Any) -> None:
    engine = Engine.open(replace(settings, question_log_days=0), embed_model=embed_model)
    try:
        answer = engine.ask("Which cities were hit?", asker=ALICE)
        assert answer.log_id is None and _rows(engine, "SELECT COUNT(*) FROM questions") == [(0,)]
        assert not engine.question_log_enabled
    finally:
        engine.close()


def test_rows_older_than_the_retention_are_pruned(settings: Any, embed_model: Any) -> None:
    engine = Engine.open(replace(settings, question_log_days=30), embed_model=embed_model)
    old = engine.ask("Which cities were hit?", asker=ALICE)
    engine.rate_answer(old.log_id, server=None, user=ALICE, vote=1)
    recent = engine.ask("Which cities were hit?", asker=BOB)
    stale = (datetime.now(UTC) - timedelta(days=31)).isoformat(timespec="seconds")
    with engine._catalog.transaction("age the first row") as db:
        db.execute("UPDATE questions SET asked_at = ? WHERE id = ?", (stale, old.log_id))
        db.execute("UPDATE feedback SET updated_at = ?", (stale,))
    engine.close()
    engine = Engine.open(replace(settings, question_log_days=30), embed_model=embed_model)
    try:
        engine.ask("Which cities were hit?")  # the first question of a process prunes
        ids = {r[0] for r in _rows(engine, "SELECT id FROM questions")}
        assert old.log_id not in ids and recent.log_id in ids
        assert _rows(engine, "SELECT COUNT(*) FROM feedback") == [(0,)]
    finally:
        engine.close()


def test_only_the_asker_rates_an_answer_and_nothing_else_is_stored(seeded: Engine) -> None:
    answer = seeded.ask("Which cities were hit?", server="A", asker=ALICE)
    with pytest.raises(NotPermitted, match="Only the person who asked"):
        seeded.rate_answer(answer.log_id, server="A", user=BOB, vote=-1, reason="wrong")
    with pytest.raises(UnknownRecord):
        seeded.rate_answer(answer.log_id, server="B", user=ALICE, vote=1)  # another server's answer
    with pytest.raises(UnknownRecord):
        seeded.rate_answer(answer.log_id + 1000, server="A", user=ALICE, vote=1)
    with pytest.raises(InvalidInput):
        seeded.rate_answer(answer.log_id, server="A", user=ALICE, vote=-1, reason="boring")
    assert _rows(seeded, "SELECT COUNT(*) FROM feedback") == [(0,)]
    first = seeded.rate_answer(answer.log_id, server="A", user=ALICE, vote=1)
    again = seeded.rate_answer(answer.log_id, server="A", user=ALICE, vote=-1, reason="outdated")
    assert first.id == again.id and (again.vote, again.reason) == (-1, "outdated")
    ((question, as_of, text, cited, user),) = _rows(seeded, "SELECT question, as_of, answer, cited, user FROM feedback")
    assert question == "Which cities were hit?" and as_of == date.today().isoformat() and "Kyiv" in text
    assert answer.citations[0].passage.chunk_id in cited and user == seeded._log.hash(ALICE)


def test_a_bad_source_report_lets_a_moderator_hide_a_cited_article(seeded: Engine) -> None:
    seeded.add_article(FERRY, server="A")
    answer = seeded.ask(FERRY_Q, server="A", asker=ALICE, as_of=date(2025, 2, 10))
    seeded.rate_answer(answer.log_id, server="A", user=ALICE, vote=-1, reason="bad source")
    (report,) = seeded.reports("A")
    assert report.question == FERRY_Q and report.sources[0].title == FERRY.title
    assert seeded.reports("B") == []
    seed = next(i.id for i in seeded.list_articles() if i.server is None)
    with pytest.raises(InvalidInput, match="not one the reported answer cited"):
        seeded.moderate(seed, server="A", mode="hidden", report=report.id)
    with pytest.raises(UnknownRecord):
        seeded.moderate(report.sources[0].id, server="B", mode="hidden", report=report.id)
    info = seeded.moderate(report.sources[0].id, server="A", mode="hidden", actor="mod", report=report.id)
    assert info.moderation == "hidden"
    later = seeded.ask(FERRY_Q, server="A", as_of=date(2025, 2, 10))
    assert FERRY.title not in {c.passage.title for c in later.citations}


def test_stats_count_what_was_asked_per_server(seeded: Engine) -> None:
    for question in (
        "Which cities were hit?",
        "What is the best recipe for banana bread?",
        "How long should banana bread bake?",
        "Which cities were hit?",
    ):
        seeded.ask(question, server="A", asker=ALICE)
    answer = seeded.ask("Which cities were hit?", server="B", asker=BOB)
    seeded.rate_answer(answer.log_id, server="B", user=BOB, vote=-1, reason="wrong")
    stats = seeded.stats("A")
    assert (stats["questions"], stats["not_covered"], stats["not_covered_rate"]) == (4, 2, 0.5)
    assert stats["per_day"] == [
        {
            "day": datetime.now(UTC).date().isoformat(),
            "questions": 4,
            "not_covered": 2,
            "ms_mean": stats["per_day"][0]["ms_mean"],
        }
    ]
    assert stats["gaps"][0]["count"] == 2 and "banana" in stats["gaps"][0]["terms"]
    assert stats["worst_rated"] == [] and stats["ratings"] == {"up": 0, "down": 0}
    other = seeded.stats("B")
    assert other["questions"] == 1 and other["worst_rated"][0]["reasons"] == {"wrong": 1}
    assert seeded.stats("A", today=date.today() + timedelta(days=40))["questions"] == 0


def test_coverage_gaps_group_questions_by_the_informative_terms_they_share() -> None:
    missed = [
        "When does the Westport ferry strike end?",
        "Is the Westport ferry strike over?",
        "Who won the chess olympiad?",
        "Which country won the chess olympiad in 2024?",
        "What is the weather like?",
        "What did the Westport mayor say?",
    ]
    asked = missed + ["What happened in Westport this week?"] * 5
    gaps = coverage_gaps(missed, asked)
    groups = sorted(sorted(g["questions"]) for g in gaps if g["count"] == 2)
    assert groups == sorted([sorted(missed[:2]), sorted(missed[2:4])])
    assert {"ferry", "strike"} <= set(next(g for g in gaps if "Westport" in g["questions"][0])["terms"])
    assert [g["count"] for g in gaps] == [2, 2, 1, 1]  # 'Westport', asked about often, links nothing by itself


def test_the_digest_groups_the_days_stories_most_covered_first(seeded: Engine) -> None:
    today = date.today()
    rival = Article(
        title="Westport ferry fares to double from March",
        body=FERRY.body.replace("Monday", "Tuesday"),
        outlet="Harbour Times",
        published=today,
        url="https://news.example/ferry-fares-2",
    )
    for article in (replace(FERRY, published=today), rival, replace(TOLL, published=today)):
        seeded.add_article(article, server="A")
    seeded.add_article(replace(TOLL, url="https://news.example/b-toll", published=today), server="B")
    digest = seeded.digest("A", today)
    assert digest.covered and len(digest.sentences) >= 2
    first = digest.citations[digest.sentences[0].citations[0] - 1].passage
    assert "ferry" in first.title.lower()
    assert all(c.passage.url != "https://news.example/b-toll" for c in digest.citations)
    assert not seeded.digest("A", today - timedelta(days=400)).covered
    assert seeded.claim_digest("A", today) and not seeded.claim_digest("A", today)
    seeded.finish_digest("A", today, "posted")
    assert seeded.digest_status("A", today) == "posted" and seeded.digest_status("B", today) is None


def test_server_settings_are_stored_per_server(seeded: Engine) -> None:
    seeded.set_server_config("A", {"channels": [1, 2], "private": True})
    assert seeded.get_server_config("A") == {"channels": [1, 2], "private": True}
    assert seeded.get_server_config("B") == {}
    for bad in ([1, 2], {"x": object()}, {"x": "y" * 70_000}):
        with pytest.raises(InvalidInput):
            seeded.set_server_config("A", bad)  # type: ignore[arg-type]
    assert seeded.get_server_config("A") == {"channels": [1, 2], "private": True}


def test_the_salt_file_is_private_and_kept(seeded: Engine, settings: Any, embed_model: Any) -> None:
    salt = settings.data_dir / "user-salt"
    assert salt.stat().st_mode & 0o777 == 0o600
    before = seeded._log.hash(ALICE)
    seeded.close()
    again = Engine(settings, embed_model=embed_model)
    try:
        assert again._log.hash(ALICE) == before
    finally:
        again.close()
    db = sqlite3.connect(settings.data_dir / "newsdesk.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM questions").fetchone() == (0,)
