"""The one write path: articles in (one or many), cleaned of page clutter, chunked, embedded (from the cache
where possible), then written so that each article is wholly present or wholly absent whatever happens.

Order of a write, under the data directory's write lock:
1. journal "add": the new chunk and title ids, committed before the vector store sees them;
2. the vectors go to the store (new chunk ids carry the content hash, so an old version stays until 3);
3. one catalog transaction: the article, its chunks and their keyword terms, the journal turned into
   "delete" of the replaced ids, and the change counter other processes watch;
4. the replaced vectors are deleted and the journal entry cleared.
A crash anywhere leaves a journal entry that `recover` finishes or undoes on the next start or write.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from . import cleaning, keywords
from .articles import Article
from .catalog import Catalog, ChunkRow, now_text, spans_json
from .chunking import ChunkedArticle, chunk_article, chunk_vectors, index_title, title_key
from .clutter import SqliteLineStats
from .embedcache import EmbeddingCache
from .embedding import Embedder
from .errors import InvalidArticle, StoreError, StoreNotAnswering
from .migrations import dumps
from .results import AddResult, ArticleInfo
from .servers import corpus_key, keyword_token, log_event
from .store import VectorStore, disk_full
from .story_writer import StoryWriter
from .view import StoreView

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
BATCH_CHUNKS = 1024  # chunks embedded and written per step of a many-article add


@dataclass
class _Written:
    """What one add carries to its transactions: each article's cleaning, and the lines that became boilerplate."""

    ready: dict[str, cleaning.Prepared] = field(default_factory=dict)
    crossed: cleaning.Crossed = field(default_factory=dict)


@dataclass
class Writer:
    """Writes articles into the catalog and the live vector store."""

    catalog: Catalog
    cache: EmbeddingCache
    view: StoreView
    embed_model: Embedder
    model_key: str
    splitter: Callable[[], object]
    stories: StoryWriter | None = None  # assigns each article written to its story, in the same transaction

    def add(
        self, articles: Sequence[Article], progress: Progress | None = None, actor: str | None = None
    ) -> list[AddResult]:
        """Add or replace articles (each in the corpus its `server` names), embedding in large batches; each
        article is all-or-nothing; `actor` (who adds them) is recorded.

        Results are in input order; an article already stored in the same version is 'unchanged'. When one
        article (one id) comes several times, its last version is added and the earlier ones get its result.
        """
        for article in articles:
            if not article.body.strip():
                raise InvalidArticle(f"The article text is empty: {article.title or article.url or article.id!r}.")
        if disk_full(self.catalog.path.parent):  # before any embedding: a full disk fails the add at once
            raise StoreError("Could not add articles: the disk is full (free some space and try again).")
        last = {article.id: i for i, article in enumerate(articles)}
        results: dict[str, AddResult] = {}
        pending: list[ChunkedArticle] = []
        size = 0
        cleaner = cleaning.Cleaner(self.catalog, articles)
        written = _Written()
        for done, (i, article) in enumerate(enumerate(articles), 1):
            if last[article.id] == i:
                ready = cleaner.prepare(article)
                if cleaning.is_stored(self.catalog, ready):
                    results[article.id] = AddResult("unchanged", self._info(article.id))
                else:
                    chunked = chunk_article(ready.article, self.splitter(), self.model_key)  # type: ignore[arg-type]
                    written.ready[article.id] = ready
                    pending.append(chunked)
                    size += len(chunked.rows)
                    if size >= BATCH_CHUNKS:
                        results.update(self._write(pending, written, actor))
                        cleaner.written(c.article.id for c in pending)
                        pending, size = [], 0
            if progress:
                progress(done, len(articles))
        results.update(self._write(pending, written, actor))
        again = cleaning.to_clean_again(self.catalog, written.crossed, exclude=set(last))
        if again:  # lines that just became boilerplate: clean the other articles holding them again
            log.info(
                "Cleaning %d articles again: %d lines became boilerplate",
                len(again),
                sum(map(len, written.crossed.values())),
            )
            self.add(again)  # each keeps its id and corpus (stored_as_added)
        return [results[a.id] for a in articles]

    def _write(self, chunked: list[ChunkedArticle], written: _Written, actor: str | None) -> dict[str, AddResult]:
        if not chunked:
            return {}
        vectors, _ = chunk_vectors(chunked, self.embed_model, self.cache)
        prepared = self.stories.prepare(self.catalog.reader(), [c.article for c in chunked]) if self.stories else {}
        out: dict[str, AddResult] = {}
        with self.view.writing() as store:
            store.ping()
            recover(self.catalog, store)
            fresh = []
            for c in chunked:
                previous = self.catalog.content_hash(c.article.id)
                if cleaning.is_stored(self.catalog, written.ready[c.article.id]):  # another process stored it meanwhile
                    out[c.article.id] = AddResult("unchanged", self._info(c.article.id))
                else:
                    fresh.append((c, previous))
            if fresh:
                self._commit([c for c, _ in fresh], vectors, store, written, prepared, actor)
        for c, previous in fresh:
            out[c.article.id] = AddResult("replaced" if previous else "added", self._info(c.article.id))
        return out

    def _commit(
        self,
        chunked: list[ChunkedArticle],
        vectors: dict[str, np.ndarray],
        store: VectorStore,
        written: _Written,
        prepared: dict[str, np.ndarray],
        actor: str | None,
    ) -> None:
        chunk_ids = [r.id for c in chunked for r in c.rows]
        titled = [c for c in chunked if c.title]
        stored = self.catalog.corpora(c.article.id for c in chunked)  # a new version stays in its corpus
        corpus = {c.article.id: stored.get(c.article.id, corpus_key(c.article.server)) for c in chunked}
        with self.catalog.transaction("record the vectors being written") as db:
            journal = int(
                db.execute(
                    "INSERT INTO pending_vectors(action, chunk_ids, title_ids, created_at) VALUES('add', ?, ?, ?)",
                    (dumps(chunk_ids), dumps([c.article.id for c in chunked]), now_text()),
                ).lastrowid
                or 0
            )
        try:
            store.add_chunks(
                chunk_ids,
                np.stack([vectors[r.embed_key] for c in chunked for r in c.rows]),
                [r.article_id for c in chunked for r in c.rows],
                [corpus[c.article.id] for c in chunked for r in c.rows],
            )
            if titled:
                store.add_titles(
                    [c.article.id for c in titled],
                    np.stack([vectors[c.title_key] for c in titled]),
                    [corpus[c.article.id] for c in titled],
                )
            untitled = [c.article.id for c in chunked if not c.title]
            if untitled:
                store.delete_titles(untitled)
            with self.catalog.transaction("save the articles") as db:
                replaced: list[str] = []
                for c in chunked:
                    before = cleaning.previous_version(db, c.article.id)
                    replaced += _save(db, c, actor)
                    cleaning.save(db, written.ready[c.article.id], before, written.crossed)
                if self.stories:  # the cleaned articles, replacing an earlier version's story place
                    self.stories.assign(db, [c.article for c in chunked], prepared)
                db.execute(
                    "UPDATE pending_vectors SET action='delete', chunk_ids=?, title_ids='[]' WHERE id=?",
                    (dumps(replaced), journal),
                )
                Catalog.bump(db, [c.article.id for c in chunked])
        except StoreNotAnswering:  # undoing would wait for it again: the journal settles it later
            log.warning("A write the vector store did not answer is left in the journal for the next start or write")
            raise
        except BaseException:
            _undo_quietly(self.catalog, store)
            raise
        _finish_delete(self.catalog, store, journal, replaced, [])

    def remove(self, article_id: str, actor: str | None = None) -> ArticleInfo:
        """Remove an article, its chunks and their vectors (recording who did); raises ArticleNotFound."""
        info = self._info(article_id)
        with self.view.writing() as store:
            recover(self.catalog, store)
            with self.catalog.transaction("remove the article") as db:
                log_event(db, article_id, corpus_key(info.server), info.title, "removed", actor, now_text())
                old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE article_id=?", (article_id,))]
                _delete_chunks(db, article_id)
                db.execute("DELETE FROM articles WHERE id=?", (article_id,))
                SqliteLineStats(db).forget(article_id)
                if self.stories:
                    self.stories.remove(db, article_id)
                journal = int(
                    db.execute(
                        "INSERT INTO pending_vectors(action, chunk_ids, title_ids, created_at)"
                        " VALUES('delete', ?, ?, ?)",
                        (dumps(old), dumps([article_id]), now_text()),
                    ).lastrowid
                    or 0
                )
                Catalog.bump(db, [article_id])
            _finish_delete(self.catalog, store, journal, old, [article_id])
        return info

    def _info(self, article_id: str) -> ArticleInfo:
        from .errors import ArticleNotFound

        info = self.catalog.info(article_id)
        if info is None:
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        return info


def _save(db: sqlite3.Connection, chunked: ChunkedArticle, actor: str | None = None) -> list[str]:
    """Store an article, its chunks and their keyword terms, and who added it (inside a transaction); returns
    replaced chunk ids. A new version keeps the corpus and the adder of the first."""
    a = chunked.article
    old = [r[0] for r in db.execute("SELECT id FROM chunks WHERE article_id=?", (a.id,))]
    _delete_chunks(db, a.id)
    key = corpus_key(a.server)
    db.execute(
        "INSERT INTO articles(id, title, outlet, published, url, authors, body, content_hash, added_at, server,"
        " origin, added_by) VALUES(?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET title=excluded.title,"
        " outlet=excluded.outlet, published=excluded.published, url=excluded.url,"
        " authors=excluded.authors, body=excluded.body, content_hash=excluded.content_hash",
        (
            a.id,
            a.title,
            a.outlet,
            a.published.isoformat() if a.published else None,
            a.url,
            json.dumps(list(a.authors)),
            a.body,
            a.content_hash,
            now_text(),
            key,
            key,
            actor,
        ),
    )
    key = db.execute("SELECT server FROM articles WHERE id=?", (a.id,)).fetchone()[0]
    log_event(db, a.id, key, a.title, "replaced" if old else "added", actor, now_text())
    insert_chunks(db, chunked.rows, chunked.title, key)
    new = {r.id for r in chunked.rows}
    return [c for c in old if c not in new]


def insert_chunks(db: sqlite3.Connection, rows: Sequence[ChunkRow], title: str, corpus: str) -> None:
    """Insert chunk rows and their keyword terms, in their article's corpus (inside a transaction)."""
    token = keyword_token(corpus)
    for r in rows:
        seq = db.execute(
            "INSERT INTO chunks(id, article_id, ordinal, text, embed_key, sentences) VALUES(?,?,?,?,?,?)",
            (r.id, r.article_id, r.ordinal, r.text, r.embed_key, spans_json(r.sentences)),
        ).lastrowid
        keywords.write(db, [(int(seq or 0), keywords.terms_text(title, r.text), token)])


def _delete_chunks(db: sqlite3.Connection, article_id: str) -> None:
    seqs = [r[0] for r in db.execute("SELECT seq FROM chunks WHERE article_id=?", (article_id,))]
    keywords.delete(db, seqs)
    db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))


def _finish_delete(
    catalog: Catalog, store: VectorStore, journal: int, chunk_ids: list[str], title_ids: list[str]
) -> None:
    try:
        if chunk_ids:
            store.delete_chunks(chunk_ids)
        if title_ids:
            store.delete_titles(title_ids)
    except StoreError as exc:  # the journal keeps them: the next write or start deletes them
        log.warning("Old vectors left for later clean-up: %s", exc)
        return
    with catalog.transaction("clear the write journal") as db:
        db.execute("DELETE FROM pending_vectors WHERE id=?", (journal,))


def _undo_quietly(catalog: Catalog, store: VectorStore) -> None:
    """Undo a failed write's vectors now if the store and catalog allow it; else the journal keeps it."""
    try:
        recover(catalog, store)
    except Exception as exc:
        log.warning("A failed write is left in the journal for the next start or write: %s", exc)


def recover(catalog: Catalog, store: VectorStore) -> int:
    """Finish or undo vector-store work a crashed or failed write left in the journal (caller holds the
    write lock); returns how many entries were settled."""
    rows = catalog.query("SELECT id, action, chunk_ids, title_ids FROM pending_vectors ORDER BY id")
    for journal, action, chunk_text, title_text in rows:
        chunk_ids, title_ids = json.loads(chunk_text), json.loads(title_text)
        if action == "add":  # vectors written, catalog maybe not: drop those the catalog does not hold
            held = catalog.chunk_ids_in(chunk_ids)
            store.delete_chunks([c for c in chunk_ids if c not in held])
            _restore_titles(catalog, store, title_ids)
            with catalog.transaction("clear the write journal") as db:
                db.execute("DELETE FROM pending_vectors WHERE id=?", (journal,))
        else:
            _finish_delete(catalog, store, journal, chunk_ids, [a for a in title_ids if catalog.info(a) is None])
    if rows:
        log.warning("Settled %d unfinished vector-store writes left by an interrupted process", len(rows))
    return len(rows)


def _restore_titles(catalog: Catalog, store: VectorStore, article_ids: list[str]) -> None:
    """Make the store's title vectors of these articles match the catalog (from the embedding cache)."""
    present = catalog.titles(article_ids)
    gone = [a for a in article_ids if a not in present]
    if gone:
        store.delete_titles(gone)
    # a stored article's title vector is rewritten by whoever settles the journal from the catalog's view
    if present:
        store.delete_titles([a for a, (title, url) in present.items() if not index_title(title, url)])


def title_keys(catalog: Catalog, model_key: str, article_ids: list[str]) -> dict[str, str]:
    """The cache key of each article's title vector (articles without a title are left out)."""
    out = {}
    for article_id, (title, url) in catalog.titles(article_ids).items():
        text = index_title(title, url)
        if text:
            out[article_id] = title_key(model_key, text)
    return out
