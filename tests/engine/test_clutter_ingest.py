"""Page clutter removed in the one write path (real engine): lines an outlet repeats and structural clutter leave
the stored body, the body as it came is kept, correction notices are stored apart and shown with citations."""

from __future__ import annotations

import shutil
import sqlite3
import tarfile
from datetime import date
from pathlib import Path

from bot.render import render_answer as discord_render
from cli.output import render_answer as terminal_render
from index import Article, Engine, Settings
from tests.fakes.newsroom import CORRECTION, CREDIT, PROMO, STORIES

from ..conftest import ROOT

CONSENT = [
    "We use cookies and data to deliver and maintain our services and to measure audience engagement.",
    "If you choose to accept all we and our partners will also use cookies for personalised advertising.",
]


def story(slug: str, *, first: tuple[str, ...] = (), extra: tuple[str, ...] = (PROMO,)) -> Article:
    """One of the newsroom's stories as a gazette.example article, with extra lines after its first paragraph."""
    title, paragraphs = STORIES[slug]
    return Article(
        title=title,
        body="\n".join([*first, paragraphs[0], *extra, *paragraphs[1:]]),
        outlet="Harbour Gazette",
        published=date(2024, 3, 1),
        url=f"https://gazette.example/news/{slug}",
    )


def catalog(engine: Engine) -> sqlite3.Connection:
    return sqlite3.connect(Path(engine.settings.data_dir) / "newsdesk.sqlite3")


def writes(engine: Engine) -> dict[str, int]:
    """How many times each article was written (the change log)."""
    return dict(catalog(engine).execute("SELECT article_id, COUNT(*) FROM change_log GROUP BY article_id"))


def test_clutter_leaves_the_body_raw_is_kept_and_the_correction_goes_with_the_citation(engine: Engine) -> None:
    articles = [story("harbour", first=(CORRECTION,), extra=(CREDIT, PROMO))] + [
        story(s) for s in STORIES if s != "harbour"
    ]
    assert {r.status for r in engine.add_articles(articles)} == {"added"}
    assert set(writes(engine).values()) == {1}  # one add is judged as a whole: nobody is cleaned twice
    for article in articles:
        body = engine.get_article(article.id).body
        assert PROMO not in body and STORIES[article.url.rsplit("/", 1)[1]][1][0] in body
    harbour = articles[0]
    stored = engine.get_article(harbour.id).body
    assert CREDIT not in stored and CORRECTION not in stored
    raw, corrections = (
        catalog(engine).execute("SELECT raw_body, corrections FROM articles WHERE id=?", (harbour.id,)).fetchone()
    )
    assert raw == harbour.body and corrections == f'["{CORRECTION}"]'

    answer = engine.ask("How many metres of the harbour wall did engineers replace?", as_of=date(2024, 3, 2))
    citation = next(c for c in answer.citations if c.passage.article_id == harbour.id)
    assert citation.passage.corrections == (CORRECTION,) and citation.passage.updated is None
    assert "earlier version" not in citation.passage.text and "earlier version" not in answer.text
    assert CORRECTION in terminal_render(answer)
    footers = [e.footer.text or "" for e in discord_render(answer).embeds]
    assert any(CORRECTION in f for f in footers)


def test_lines_that_become_boilerplate_are_cleaned_from_the_earlier_articles(engine: Engine) -> None:
    slugs = list(STORIES)
    for slug in slugs[:4]:
        engine.add_article(story(slug))
    assert all(PROMO in engine.get_article(story(s).id).body for s in slugs[:4])  # 4 pages: not boilerplate yet
    engine.add_article(story(slugs[4]))
    assert all(PROMO not in engine.get_article(story(s).id).body for s in slugs)
    db = catalog(engine)
    assert db.execute("SELECT COUNT(*) FROM articles WHERE updated_at IS NOT NULL").fetchone() == (0,)
    gone = story(slugs[0]).id
    engine.remove(gone)
    assert db.execute("SELECT COUNT(*) FROM line_seen WHERE article_id=?", (gone,)).fetchone() == (0,)


def test_a_body_that_was_all_clutter_is_indexed_as_its_title(engine: Engine) -> None:
    articles = [story(s, extra=tuple(CONSENT)) for s in STORIES]
    form = Article(
        title="Watch: storm waves break over the Port Elwin sea wall",
        body="\n".join(CONSENT),
        url="https://gazette.example/video/storm-waves",
        published=date(2024, 3, 1),
    )
    results = engine.add_articles([*articles, form])
    assert results[-1].status == "added" and results[-1].article.chunks == 1
    assert engine.get_article(form.id).body == form.title
    hits = engine.retrieve("storm waves breaking over the sea wall video", as_of=date(2024, 3, 2)).passages
    assert form.id in [p.article_id for p in hits]


def test_a_correction_added_later_updates_the_article(engine: Engine) -> None:
    first = story("harbour")
    engine.add_article(first)
    later = story("harbour", first=(CORRECTION,))
    assert engine.add_article(later).status == "replaced"  # same cleaned text, but now with a correction
    passage = next(
        p for p in engine.retrieve("harbour wall repaired", as_of=date(2024, 3, 2)).passages if p.article_id == first.id
    )
    assert passage.corrections == (CORRECTION,) and passage.updated == date.today()
    assert engine.add_article(later).status == "unchanged"


def test_an_article_without_a_link_is_stored_as_given(engine: Engine) -> None:
    body = f"{STORIES['rail'][1][0]}\n{CREDIT}\n{STORIES['rail'][1][1]}"
    result = engine.add_text("Rail strike ends", body)
    assert engine.get_article(result.article.id).body == body
    assert result.article.id == Article(title="Rail strike ends", body=body).id


def test_an_old_catalog_is_upgraded_with_line_counts(tmp_path: Path, embed_model: object) -> None:
    with tarfile.open(ROOT / "tests" / "fixtures" / "release0-index.tar.gz") as archive:
        archive.extractall(tmp_path, filter="data")
    data = tmp_path / "data"
    shutil.move(tmp_path / "fixture-data", data)
    engine = Engine.open(Settings(data_dir=data, seeds_dir=tmp_path / "none"), embed_model=embed_model)  # type: ignore[arg-type]
    try:
        assert engine.list_feeds() == [] and len(engine.list_articles()) == 4
        db = catalog(engine)
        linked = db.execute("SELECT id FROM articles WHERE url IS NOT NULL").fetchall()
        counted = db.execute("SELECT DISTINCT article_id FROM line_seen").fetchall()
        assert counted == linked and len(linked) == 1
        plain = db.execute("SELECT COUNT(*) FROM articles WHERE corrections='[]' AND raw_body IS NULL").fetchone()
        assert plain == (4,)
    finally:
        engine.close()
