"""Stories in the write path: every article added, replaced or removed is assigned to its story in the catalog
transaction that stores it (real engine, real embedding model); the migration assigns the articles already stored."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np
import pytest

from index import Engine, StoreError
from index.stories import StoryIndex
from index.story_view import StoryReader
from index.story_writer import StoryWriter, story_key

from . import story_docs as docs
from .test_migrations import release0  # noqa: F401 - the previous release's index, as a fixture


def story(engine: Engine, article) -> str:
    return StoryReader(engine._catalog).members_of([article.id])[article.id].story_id


def copy_of(engine: Engine, article) -> str | None:
    return StoryReader(engine._catalog).members_of([article.id])[article.id].copy_of


def test_articles_added_join_their_stories_and_copies_their_originals(engine):
    engine.add_articles(docs.ALL)
    delia = {story(engine, a) for a in docs.DELIA}
    varga = {story(engine, a) for a in docs.VARGA}
    assert len(delia) == 1 and len(varga) == 1 and delia != varga
    assert copy_of(engine, docs.DELIA_1_COPY) == docs.DELIA_1.id
    assert copy_of(engine, docs.DELIA_2) is None
    others = {story(engine, a) for a in docs.OTHERS}
    assert len(others) == len(docs.OTHERS) and not others & (delia | varga)


def test_one_article_at_a_time_gives_the_same_stories(engine):
    for article in docs.ALL:
        engine.add_article(article)
    assert len({story(engine, a) for a in docs.DELIA}) == 1
    assert copy_of(engine, docs.DELIA_1_COPY) == docs.DELIA_1.id


def test_story_vectors_go_through_the_embedding_cache(engine, settings, embed_model, tmp_path):
    engine.add_articles(docs.DELIA)
    index = StoryIndex(engine._catalog.reader(), create=False)
    keys = [story_key(engine._model_key, index.story_text(a.title, a.body)) for a in docs.DELIA]
    assert set(engine._cache.get(keys)) == set(keys)
    cached = engine._cache.count()
    other = Engine(
        replace(settings, data_dir=tmp_path / "other", embed_cache=settings.embed_cache_path), embed_model=embed_model
    )
    try:
        other.add_articles(docs.DELIA)  # the same articles, the same cache: no story text embedded again
        assert other._stories.embedded == 0 and other._cache.count() == cached
    finally:
        other.close()


def test_a_new_version_is_reassigned_once(engine):
    engine.add_articles(docs.DELIA)
    before = story(engine, docs.DELIA_3)
    changed = replace(docs.DELIA_3, body=docs.DELIA_3.body.replace("27 people", "29 people"))
    assert engine.add_article(changed).status == "replaced"
    assert story(engine, changed) == before
    rows = engine._catalog.query("SELECT COUNT(*) FROM story_articles WHERE article_id = ?", (changed.id,))
    assert rows[0][0] == 1
    total = engine._catalog.query("SELECT articles FROM story_terms WHERE term = ''")[0][0]
    assert total == len(docs.DELIA)  # the old version was uncounted


def test_a_removed_article_leaves_its_story_and_its_copy_becomes_the_original(engine):
    engine.add_articles(docs.DELIA)
    engine.remove(docs.DELIA_1.id)
    assert (
        engine._catalog.query("SELECT COUNT(*) FROM story_articles WHERE article_id = ?", (docs.DELIA_1.id,))[0][0] == 0
    )
    assert copy_of(engine, docs.DELIA_1_COPY) is None
    assert story(engine, docs.DELIA_1_COPY) == story(engine, docs.DELIA_2)


def test_a_write_whose_story_assignment_fails_stores_nothing(engine):
    class Failing(StoryWriter):
        def assign(self, db, articles, prepared=None):
            super().assign(db, articles, prepared)
            raise sqlite3.OperationalError("disk I/O error")

    engine._writer.stories = Failing(engine._cache, engine._embed, engine._model_key)
    with pytest.raises(StoreError):
        engine.add_article(docs.DELIA_1)
    assert engine.status().articles == 0
    assert engine._catalog.query("SELECT COUNT(*) FROM story_articles")[0][0] == 0


def test_the_migration_assigns_the_articles_already_stored_without_embedding_their_chunks(release0, embed_model):  # noqa: F811
    old = sqlite3.connect(release0.data_dir / "newsdesk.sqlite3")
    vectors = old.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
    old.close()
    engine = Engine.open(release0, embed_model=embed_model)
    try:
        articles = engine.list_articles()
        assigned = {r[0] for r in engine._catalog.query("SELECT article_id FROM story_articles")}
        assert assigned == {a.id for a in articles}
        assert engine._cache.count() == vectors + len(articles)  # one story text each; no chunk embedded again
        assert engine._stories.current(engine._catalog.reader())
    finally:
        engine.close()


def test_stories_are_assigned_afresh_when_the_story_vectors_came_from_another_model(engine, settings, embed_model):
    engine.add_articles(docs.DELIA)
    with engine._catalog.transaction("pretend another model") as db:
        db.execute("UPDATE story_state SET model = 'another-model'")
        db.execute("DELETE FROM story_articles WHERE article_id = ?", (docs.DELIA_2.id,))
    engine.close()
    reopened = Engine.open(settings, embed_model=embed_model, seed=False)
    try:
        assert reopened._stories.current(reopened._catalog.reader())
        assert story(reopened, docs.DELIA_2) == story(reopened, docs.DELIA_1)
        assert reopened._catalog.query("SELECT COUNT(*) FROM story_articles")[0][0] == len(docs.DELIA)
    finally:
        reopened.close()


def test_story_keys_name_the_model_and_the_text():
    assert story_key("m1", "a") != story_key("m2", "a") != story_key("m1", "b")


def test_the_stories_migration_itself_assigns_with_the_model_it_is_given(release0, embed_model):  # noqa: F811
    from index import migrations
    from index.embedcache import EmbeddingCache
    from index.embedding import model_id

    db = sqlite3.connect(release0.data_dir / "newsdesk.sqlite3", isolation_level=None)
    cache = EmbeddingCache(release0.data_dir / "embeddings.sqlite3")
    context = migrations.Context(
        cache=cache,
        terms_text=lambda t, x: x,
        data_dir=release0.data_dir,
        embed_model=embed_model,
        model_key=model_id(embed_model),
    )
    ran = migrations.apply(db, context)
    assert "m012_stories" in ran
    articles = db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    assert db.execute("SELECT COUNT(*) FROM story_articles").fetchone()[0] == articles == 4
    assert db.execute("SELECT model FROM story_state").fetchone()[0] == model_id(embed_model)
    db.close()


def test_a_page_that_changed_is_reassigned_from_its_new_text(tmp_path, embed_model, site):
    """Intake replaces an article whose page changed (same id): its story row is made from the new text."""
    from index import Settings, url_article_id
    from tests.fakes.newsroom import Newsroom

    room = Newsroom(site)
    url = room.publish("harbour")
    engine = Engine(
        Settings(
            data_dir=tmp_path / "data", seeds_dir=tmp_path / "no-seeds", fetch_allow_private=True, fetch_timeout=2.0
        ),
        embed_model=embed_model,
    )
    try:
        engine.add_feed(room.feed_url)
        engine.poll_feeds()
        article_id = url_article_id(url)
        paragraphs = list(room.pages["harbour"].paragraphs)
        paragraphs[0] = (
            "Harbourmaster Ingrid Solberg reopened the harbour at Port Elwin on Saturday after a week "
            "of repairs to the sea wall."
        )
        room.edit("harbour", paragraphs)
        assert [a.id for a in engine.refresh_recent().updated] == [article_id]
        after = engine.get_article(article_id)
        rows = engine._catalog.query("SELECT names, vector FROM story_articles WHERE article_id = ?", (article_id,))
        assert len(rows) == 1 and "solberg" in rows[0][0]
        text = StoryIndex(engine._catalog.reader(), create=False).story_text(after.title, after.body)
        key = story_key(engine._model_key, text)
        expected = engine._cache.get([key])[key]
        stored = np.frombuffer(rows[0][1], dtype=np.float32)
        assert float(np.dot(stored, expected) / np.linalg.norm(expected)) > 0.999
    finally:
        engine.close()
