"""m009_servers on a catalog of the release before it: articles become shared, the keyword index gets its server
column, and the start re-writes the vectors with their `server` metadata without re-chunking or embedding."""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np

import index.keywords
from index.engine import Engine
from index.servers import Scope
from index.settings import Settings

from ..conftest import SEEDS

BEFORE_SERVERS = """
DROP INDEX articles_server;
ALTER TABLE articles DROP COLUMN server;
ALTER TABLE articles DROP COLUMN origin;
ALTER TABLE articles DROP COLUMN added_by;
DROP TABLE article_log; DROP TABLE moderation; DROP TABLE pending_scopes;
ALTER TABLE index_state DROP COLUMN rewrite_vectors;
DROP TABLE questions; DROP TABLE feedback; DROP TABLE server_config; DROP TABLE digests;
CREATE VIRTUAL TABLE old_terms USING fts5(terms, tokenize='unicode61 remove_diacritics 0');
INSERT INTO old_terms(rowid, terms) SELECT rowid, terms FROM chunk_terms;
DROP TABLE chunk_terms_vocab; DROP TABLE chunk_terms;
ALTER TABLE old_terms RENAME TO chunk_terms;
CREATE VIRTUAL TABLE chunk_terms_vocab USING fts5vocab(chunk_terms, 'row');
DELETE FROM _migrations WHERE name >= 'm009';
"""


class CountingEmbedder:
    """The real model, counting the texts it embeds for documents (queries are not counted)."""

    def __init__(self, model: Any) -> None:
        self.model, self.texts = model, 0
        self.model_name = model.model_name

    def class_name(self) -> str:
        return self.model.class_name()

    def embed(self, texts: list[str]) -> Any:
        self.texts += len(texts)
        return self.model.embed(texts)

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> Any:
        self.texts += len(texts)
        return self.model.get_text_embedding_batch(texts, **kwargs)

    def get_text_embedding(self, text: str) -> Any:
        self.texts += 1
        return self.model.get_text_embedding(text)

    def get_query_embedding(self, query: str) -> Any:
        return self.model.get_query_embedding(query)


def _before_servers(engine: Engine) -> None:
    """Make the engine's data directory what the release before m009 left: no corpora in the catalog, a keyword
    index without the server column, vectors without `server` metadata (titles without any)."""
    live = engine._view.live()
    chunks = live._chunks.get(include=[])["ids"]
    live._chunks.update(ids=chunks, metadatas=[{"server": None}] * len(chunks))
    titles = live._titles.get(include=[])["ids"]
    live._titles.update(ids=titles, metadatas=[{"server": None, "article_id": None}] * len(titles))
    engine.close()
    db = sqlite3.connect(engine.settings.data_dir / "newsdesk.sqlite3")
    db.executescript(BEFORE_SERVERS)
    db.close()


def test_an_old_catalog_is_upgraded_without_rechunking_or_embedding(tmp_path: Any, embed_model: Any) -> None:
    settings = Settings(data_dir=tmp_path / "data", seeds_dir=SEEDS)
    old = Engine.open(settings, embed_model=embed_model)
    chunks = old._catalog.query("SELECT seq, id, embed_key FROM chunks ORDER BY seq")
    vectors = old._view.live()._chunks.get(include=["embeddings"])
    _before_servers(old)

    counting = CountingEmbedder(embed_model)
    engine = Engine.open(settings, embed_model=counting)
    try:
        assert counting.texts == 0  # every vector came from the embedding cache
        assert engine._catalog.query("SELECT seq, id, embed_key FROM chunks ORDER BY seq") == chunks  # not re-chunked
        assert {r[0] for r in engine._catalog.query("SELECT server FROM articles")} == {"*"}
        assert not engine._catalog.state().rewrite_vectors and not engine.needs_rebuild()
        live = engine._view.live()
        stored = live._chunks.get(include=["metadatas", "embeddings"])
        assert {m["server"] for m in stored["metadatas"]} == {"*"}
        assert {m["server"] for m in live._titles.get(include=["metadatas"])["metadatas"]} == {"*"}
        before = dict(zip(vectors["ids"], vectors["embeddings"], strict=False))
        assert all(np.allclose(before[i], v) for i, v in zip(stored["ids"], stored["embeddings"], strict=False))
        question = "Which cities were hit?"
        assert index.keywords.search(engine._catalog, index.keywords.query_terms(question), 10, Scope("A"))
        qvec = embed_model.get_query_embedding(question)
        assert live.query_chunks(qvec, 5, where=Scope("A").where())
        answer = engine.ask(question, server="A")
        assert "Kyiv" in answer.text and answer.citations[0].passage.title.startswith("Russia escalates")
    finally:
        engine.close()
