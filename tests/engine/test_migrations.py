"""The catalog's format changes only through numbered migrations; an index written by the previous release
(tests/fixtures/release0-index.tar.gz, made by the code of commit 643a4e7) opens and upgrades itself."""

from __future__ import annotations

import sqlite3
import tarfile
from datetime import date
from pathlib import Path

import pytest

from index import Engine, Settings, migrations
from index.embedcache import EmbeddingCache

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "release0-index.tar.gz"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.fixture
def release0(tmp_path) -> Settings:
    """The previous release's index, unpacked: 4 articles, 10 chunks, vectors in its catalog, bm25s files."""
    with tarfile.open(FIXTURE) as archive:
        archive.extractall(tmp_path, filter="data")
    return Settings(data_dir=tmp_path / "fixture-data", seeds_dir=SEEDS)


def test_an_index_of_the_previous_release_upgrades_itself_and_answers(release0, embed_model):
    old = sqlite3.connect(release0.data_dir / "newsdesk.sqlite3")
    old_vectors = old.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    old.close()
    engine = Engine.open(release0, embed_model=embed_model)
    try:
        applied = [r[0] for r in engine._catalog.query("SELECT name FROM _migrations ORDER BY rowid")]
        assert applied == [name for name, _ in migrations.MIGRATIONS]
        assert {i.title for i in engine.list_articles()} >= {
            "Tram line 9 extended to Vesna harbour",
            "Storm Alma reaches the coast",
        }
        status = engine.status()
        assert (status.articles, status.chunks) == (4, 10)
        assert status.extra == {"vectors": 10, "title_vectors": 4}  # title vectors restored into the store
        # every cached vector moved over; only the four articles' story texts were embedded (m012_stories)
        assert engine._cache.count() == old_vectors + 4
        assert not (release0.data_dir / "bm25").exists()
        assert "Kyiv" in engine.ask("Which cities were hit?").text
        tram = engine.ask("Where will tram line 9 go?", as_of=date(2024, 5, 8))
        assert "Vesna harbour" in tram.text
        assert engine.retrieve("tram Vesna harbour", as_of=date(2024, 5, 8)).passages[0].title.startswith("Tram")
    finally:
        engine.close()
    again = Engine.open(release0, embed_model=embed_model)  # nothing runs twice
    assert again._catalog.query("SELECT COUNT(*) FROM _migrations")[0][0] == len(migrations.MIGRATIONS)
    again.close()


def test_a_migration_that_fails_leaves_the_catalog_as_it_was(tmp_path, monkeypatch):
    db = sqlite3.connect(tmp_path / "c.sqlite3", isolation_level=None)
    context = migrations.Context(
        cache=EmbeddingCache(tmp_path / "e.sqlite3"), terms_text=lambda t, x: x, data_dir=tmp_path
    )
    migrations.apply(db, context)

    def m999_breaks(db: sqlite3.Connection, context: migrations.Context) -> None:
        db.execute("CREATE TABLE half_done (x)")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(migrations, "MIGRATIONS", [*migrations.MIGRATIONS, ("m999_breaks", m999_breaks)])
    with pytest.raises(RuntimeError):
        migrations.apply(db, context)
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "half_done" not in tables
    assert "m999_breaks" in migrations.pending(db)
