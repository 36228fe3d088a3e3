"""Bulk import of JSONL(.gz) files through the real engine: bad lines reported without stopping, clutter judged
over the whole file (two passes), and an import killed with SIGKILL resumed with every article exactly once."""

from __future__ import annotations

import gzip
import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from index import Article, Engine, InvalidInput, Settings, importer
from tests.fakes.newsroom import PROMO, STORIES

from .procs import article
from .test_processes import ROOT, assert_consistent, kill, start


def record(prefix: str, i: int, **changes: object) -> dict:
    """A corpus record (the benchmark's shape) of a generated article."""
    a = article(prefix, i)
    return {
        "url": a.url,
        "title": a.title,
        "published": a.published.isoformat() if a.published else None,
        "authors": ["Ann Lee"],
        "body": a.body,
        **changes,
    }


def write(path: Path, lines: list[str]) -> Path:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="utf-8") as handle:  # type: ignore[operator]
        handle.write("\n".join(lines) + "\n")
    return path


def test_import_reports_bad_lines_and_does_not_stop(engine: Engine, tmp_path: Path) -> None:
    good = [json.dumps(record("Northport", i)) for i in range(5)]
    lines = [
        good[0],
        "{not json",
        good[1],
        "",
        json.dumps(["a", "list"]),
        good[2],
        json.dumps({"url": "https://x.example/a", "title": "No body"}),
        good[3],
        json.dumps(record("Northport", 9, body="   ")),
        good[4],
    ]
    path = write(tmp_path / "corpus.jsonl.gz", lines)
    seen: list[tuple[int, int]] = []
    report = engine.import_jsonl(path, lambda done, total: seen.append((done, total)))
    assert (report.lines, report.added, report.unchanged, report.failed) == (10, 5, 0, 4)
    assert [(e.line, e.error.split(" (")[0]) for e in report.errors] == [
        (2, "not valid JSON"),
        (5, "a record must be a JSON object, not a list"),
        (7, "A record needs a 'body' string."),
        (9, "the record's body is empty"),
    ]
    assert sorted(a.title for a in engine.list_articles()) == sorted(record("Northport", i)["title"] for i in range(5))
    assert seen[0] == (0, 10) and seen[-1] == (10, 10)
    again = engine.import_jsonl(path)
    assert again.already_done and again.added == 0 and len(engine.list_articles()) == 5
    with pytest.raises(InvalidInput, match="No such file"):
        engine.import_jsonl(tmp_path / "missing.jsonl")


def test_import_judges_clutter_over_the_whole_file(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer, "BATCH", 2)  # so that no single add sees the whole file
    records = []
    for slug, (title, paragraphs) in STORIES.items():
        records.append(
            json.dumps(
                {
                    "url": f"https://gazette.example/news/{slug}",
                    "title": title,
                    "published": "2024-03-01",
                    "body": "\n".join([paragraphs[0], PROMO, *paragraphs[1:]]),
                }
            )
        )
    report = engine.import_jsonl(write(tmp_path / "gazette.jsonl", records))
    assert report.added == 5
    assert all(PROMO not in engine.get_article(a.id).body for a in engine.list_articles())
    db = sqlite3.connect(Path(engine.settings.data_dir) / "newsdesk.sqlite3")
    writes = [n for (n,) in db.execute("SELECT COUNT(*) FROM change_log GROUP BY article_id")]
    assert writes == [1] * 5  # each article written once, already clean: nothing cleaned again afterwards


def test_articles_stored_before_an_import_are_cleaned_of_lines_it_made_boilerplate(
    engine: Engine, tmp_path: Path
) -> None:
    slugs = list(STORIES)
    for slug in slugs[:3]:
        engine.add_article(gazette(slug))
    assert all(PROMO in engine.get_article(gazette(s).id).body for s in slugs[:3])  # 3 pages: not boilerplate
    engine.import_jsonl(write(tmp_path / "more.jsonl", [json.dumps(gazette(s).to_dict()) for s in slugs[3:]]))
    assert all(PROMO not in engine.get_article(gazette(s).id).body for s in slugs)


def gazette(slug: str) -> Article:
    title, paragraphs = STORIES[slug]
    return Article(
        title=title,
        body="\n".join([paragraphs[0], PROMO, *paragraphs[1:]]),
        published=date(2024, 3, 1),
        url=f"https://gazette.example/news/{slug}",
    )


def test_import_killed_mid_way_resumes_and_every_article_lands_once(tmp_path: Path, embed_model: object) -> None:
    path = write(tmp_path / "wire.jsonl", [json.dumps(record("Southport", i)) for i in range(60)])
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=ROOT / "seeds")
    Engine.open(settings, embed_model=embed_model, seed=False).close()  # type: ignore[arg-type]
    proc, _ = start(settings.data_dir, tmp_path, "import", str(path), pause_at="import-landed", IMPORT_BATCH="10")
    kill(proc)  # the second batch is in the catalog; the import's progress says one batch
    db = sqlite3.connect(Path(settings.data_dir) / "newsdesk.sqlite3")
    assert db.execute("SELECT COUNT(*) FROM articles").fetchone() == (20,)
    assert db.execute("SELECT total, position, finished_at FROM imports").fetchone() == (60, 10, None)

    engine = Engine.open(settings, embed_model=embed_model, seed=False)  # type: ignore[arg-type]
    try:
        report = engine.import_jsonl(path)
        assert (report.resumed_at, report.unchanged, report.added, report.failed) == (10, 10, 40, 0)
        ids = [a.id for a in engine.list_articles()]
        assert len(ids) == len(set(ids)) == 60
        assert set(ids) == {article("Southport", i).id for i in range(60)}
    finally:
        engine.close()
    assert_consistent(settings, embed_model).close()  # every chunk in the store once, the journal empty
