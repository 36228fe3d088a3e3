"""Generations of the vector store: a rebuild fills a new generation from the catalog and the embedding cache
(embedding only what the cache lacks) while the live one keeps answering, then switches over. The same
fill restores a store that lost its vectors (a Chroma server restarted empty, a damaged store moved aside).
"""

from __future__ import annotations

import hashlib
import logging
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .catalog import Catalog, ChunkRow, now_text, spans_json
from .chunking import ChunkedArticle, chunk_article, chunk_vectors, embed_into_cache, index_title, stored_chunks
from .embedcache import EmbeddingCache
from .embedding import Embedder
from .ingest import insert_chunks, recover, title_keys
from .keywords import delete as delete_terms
from .locks import DataLocks
from .results import RebuildReport
from .servers import SHARED, corpus_key
from .store import ChromaHandle, VectorStore
from .view import StoreView

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
FILL_BATCH = 64  # articles per step of a fill


@dataclass
class Generations:
    """Creates, fills, switches and cleans up the store's generations."""

    catalog: Catalog
    cache: EmbeddingCache
    handle: ChromaHandle
    view: StoreView
    locks: DataLocks
    embed_model: Embedder
    model_key: str
    prefix: str
    chunking_key: str
    splitter: Callable[[], object]

    def collection_prefix(self) -> str:
        """Collections of this embedding model start with this."""
        return f"{self.prefix}-{hashlib.sha256(self.model_key.encode()).hexdigest()[:8]}"

    def needs_rebuild(self) -> bool:
        """True when the articles were indexed with another embedding model or chunking, or the store's vectors
        lack metadata they are now filtered on."""
        return self.needs_rechunk() or self.catalog.state().rewrite_vectors

    def needs_rechunk(self) -> bool:
        """True when the articles must be chunked again (another model or chunking; a migration asked for it);
        a rebuild for anything else re-writes the stored chunks' vectors from the cache."""
        state = self.catalog.state()
        if state.needs_rebuild:
            return True
        if not state.collection or not state.collection.startswith(self.collection_prefix() + "-"):
            return self.catalog.counts()[0] > 0
        return self.catalog.counts()[0] > 0 and state.chunking != self.chunking_key

    def ensure_live(self) -> None:
        """A fresh index gets its first generation (nothing to fill)."""
        state = self.catalog.state()
        if state.collection and state.collection.startswith(self.collection_prefix() + "-"):
            return
        if self.catalog.counts()[0]:
            return  # stored articles need a rebuild into this model's collections
        with self.locks.writing():
            state = self.catalog.state()
            if state.collection and state.collection.startswith(self.collection_prefix() + "-"):
                return
            number = self._next_number()
            name = f"{self.collection_prefix()}-g{number}"
            VectorStore(self.handle, name)
            with self.catalog.transaction("start the index") as db:
                db.execute(
                    "INSERT OR REPLACE INTO generations(number, collection, state, started_at) VALUES(?, ?, 'live', ?)",
                    (number, name, now_text()),
                )
                self.catalog.set_state(
                    db, generation=number, collection=name, chunking=self.chunking_key, needs_rebuild=0
                )
                Catalog.bump(db)

    def rebuild(self, progress: Progress | None = None) -> RebuildReport:
        """Re-index every article into a new generation and switch to it when complete."""
        started = time.monotonic()
        with self.locks.rebuilding():
            self.clean_up()
            rechunk = self.needs_rechunk()
            with self.locks.writing():
                number = self._next_number()
                name = f"{self.collection_prefix()}-g{number}"
                self.handle.drop(name)  # a leftover of a crashed rebuild that had the same number
                self.handle.drop(f"{name}-titles")
                with self.catalog.transaction("start a rebuild") as db:
                    seq = db.execute("SELECT COALESCE(MAX(seq), 0) FROM change_log").fetchone()[0]
                    db.execute(
                        "INSERT INTO generations(number, collection, state, started_seq, rechunk, started_at)"
                        " VALUES(?, ?, 'building', ?, ?, ?)",
                        (number, name, seq, int(rechunk), now_text()),
                    )
                target = VectorStore(self.handle, name)
            try:
                embedded, cached, total = self._fill(target, number, rechunk, progress)
                with self.view.writing() as live:
                    recover(self.catalog, live)
                    extra = self._switch(target, number, seq, rechunk)
            except BaseException:
                self._abandon(number, name)
                raise
            self.clean_up()
        articles, chunks = self.catalog.counts()
        return RebuildReport(
            articles=articles,
            chunks=chunks,
            embedded=embedded + extra,
            cached=cached,
            seconds=time.monotonic() - started,
            collection=name,
        )

    def rewrite(self, corpus: str, progress: Progress | None = None) -> RebuildReport:
        """Re-write one corpus's vectors in the live generation from its stored chunks and the embedding cache
        (embedding only what the cache lacks), dropping vectors of its articles the catalog does not hold;
        the other corpora's vectors are not touched."""
        started = time.monotonic()
        total, chunks = self.catalog.counts(corpus)
        done = embedded = cached = 0
        if progress:
            progress(0, total)
        name = ""
        for ids in self.catalog.article_batches(FILL_BATCH, corpus):
            chunked = self._chunked(ids, rechunk=False)
            vectors, fresh = chunk_vectors(chunked, self.embed_model, self.cache)
            embedded += fresh
            cached += sum(len(c.rows) for c in chunked) - fresh
            with self.view.writing() as live:
                current = [c for c in chunked if self.catalog.content_hash(c.article.id) == c.article.content_hash]
                stale = live.chunk_ids_of(ids) - {r.id for c in current for r in c.rows}
                live.delete_chunks(sorted(stale))
                write_vectors(live, current, vectors)
                with self.catalog.transaction("record the re-written vectors") as db:
                    Catalog.bump(db)  # other processes reload their view of the store
                name = live.name
            done += len(ids)
            if progress:
                progress(min(done, total), total)
        return RebuildReport(
            articles=total,
            chunks=chunks,
            embedded=embedded,
            cached=cached,
            seconds=time.monotonic() - started,
            collection=name or self.catalog.state().collection or "",
        )

    def _next_number(self) -> int:
        row = self.catalog.query("SELECT MAX(number) FROM generations")
        return max(int(row[0][0] or 0), self.catalog.state().generation) + 1

    def _fill(self, target: VectorStore, number: int, rechunk: bool, progress: Progress | None) -> tuple[int, int, int]:
        total = self.catalog.counts()[0]
        done = embedded = cached = 0
        if progress:
            progress(0, total)
        for ids in self.catalog.article_batches(FILL_BATCH):
            chunked = self._chunked(ids, rechunk)
            vectors, fresh = chunk_vectors(chunked, self.embed_model, self.cache)
            embedded += fresh
            cached += sum(len(c.rows) for c in chunked) - fresh
            with self.locks.writing():
                self.view.refresh_locked()
                write_vectors(target, chunked, vectors)
            if rechunk:
                self._stage(number, chunked)
            done += len(ids)
            if progress:
                progress(min(done, total), total)
        return embedded, cached, total

    def _chunked(self, ids: list[str], rechunk: bool) -> list[ChunkedArticle]:
        out = []
        for article_id in ids:
            article = self.catalog.article(article_id)
            if article is None:
                continue
            if rechunk:
                out.append(chunk_article(article, self.splitter(), self.model_key))  # type: ignore[arg-type]
            else:
                out.append(stored_chunks(article, self.catalog.chunks(article_id), self.model_key))
        return out

    def _stage(self, number: int, chunked: list[ChunkedArticle]) -> None:
        with self.catalog.transaction("keep the rebuilt chunks aside") as db:
            db.executemany(
                "INSERT OR REPLACE INTO staged_chunks(id, generation, article_id, ordinal, text, embed_key, sentences,"
                " content_hash) VALUES(?,?,?,?,?,?,?,?)",
                [
                    (
                        r.id,
                        number,
                        r.article_id,
                        r.ordinal,
                        r.text,
                        r.embed_key,
                        spans_json(r.sentences),
                        c.article.content_hash,
                    )
                    for c in chunked
                    for r in c.rows
                ],
            )

    def _switch(self, target: VectorStore, number: int, seq: int, rechunk: bool) -> int:
        """Bring over what changed during the fill, then make the new generation live (write lock held)."""
        changed = [r[0] for r in self.catalog.query("SELECT DISTINCT article_id FROM change_log WHERE seq > ?", (seq,))]
        with self.catalog.transaction("switch to the rebuilt index") as db:
            if rechunk:
                _promote_staged(db, number)
            old = db.execute("SELECT number, collection FROM generations WHERE state='live'").fetchall()
            db.execute("UPDATE generations SET state='retired' WHERE state='live'")
            db.execute("UPDATE generations SET state='live' WHERE number=?", (number,))
            self.catalog.set_state(
                db,
                generation=number,
                collection=target.name,
                chunking=self.chunking_key,
                needs_rebuild=0,
                rewrite_vectors=0,
            )
            Catalog.bump(db)
        # articles changed while the fill ran: their vectors in the new generation are those of now
        embedded = 0
        if changed:
            target.delete_articles(changed)
            chunked = [
                stored_chunks(a, self.catalog.chunks(a.id), self.model_key)
                for a in (self.catalog.article(i) for i in changed)
                if a is not None
            ]
            vectors, embedded = chunk_vectors(chunked, self.embed_model, self.cache)
            write_vectors(target, chunked, vectors)
        log.info(
            "Switched to %s (%d articles changed during the rebuild); retiring %s",
            target.name,
            len(changed),
            ", ".join(c for _, c in old) or "nothing",
        )
        return embedded

    def _abandon(self, number: int, name: str) -> None:
        try:
            with self.catalog.transaction("abandon the rebuild") as db:
                db.execute("DELETE FROM staged_chunks WHERE generation=?", (number,))
                db.execute("DELETE FROM generations WHERE number=? AND state='building'", (number,))
            self.handle.drop(name)
            self.handle.drop(f"{name}-titles")
        except Exception as exc:
            log.warning("Could not clean up the abandoned rebuild %s: %s", name, exc)

    def clean_up(self) -> None:
        """Drop retired generations, and generations a dead rebuild left half-built (never one being built
        now: the rebuild lock tells), with their segment files; then the change log nobody needs."""
        building_elsewhere = self.locks.rebuild.is_held_elsewhere()
        rows = self.catalog.query("SELECT number, collection, state FROM generations WHERE state != 'live'")
        live = self.catalog.state().collection
        for number, name, state in rows:
            if state == "building" and building_elsewhere:
                continue
            self.handle.drop(name)
            self.handle.drop(f"{name}-titles")
            with self.catalog.transaction("forget a retired generation") as db:
                db.execute("DELETE FROM generations WHERE number=?", (number,))
                db.execute("DELETE FROM staged_chunks WHERE generation=?", (number,))
        if not building_elsewhere:
            for name in self.handle.names(self.prefix):  # collections no generation row accounts for
                base = name.removesuffix("-titles")
                if base != live and not self.catalog.query("SELECT 1 FROM generations WHERE collection=?", (base,)):
                    self.handle.drop(name)
            self.handle.remove_orphan_segments()
            with self.catalog.transaction("trim the change log") as db:
                db.execute(
                    "DELETE FROM change_log WHERE seq <= COALESCE((SELECT MIN(started_seq) FROM generations"
                    " WHERE state='building'), (SELECT MAX(seq) FROM change_log))"
                )

    def restore(self, progress: Progress | None = None) -> bool:
        """Give the live store the vectors it lacks (a server restarted empty, an index from before title
        vectors were kept in the store), from the embedding cache; True when something was restored."""
        stored, chunks, titles_stored, titled = self.missing_vectors()
        if stored < chunks:
            log.warning("The vector store holds %d of %d chunk vectors; restoring it from the catalog", stored, chunks)
            self.rebuild(progress)
            return True
        if titles_stored < titled:
            log.warning("The vector store holds %d of %d title vectors; restoring them", titles_stored, titled)
            total, done = self.catalog.counts()[0], 0
            for ids in self.catalog.article_batches(500):
                keys = title_keys(self.catalog, self.model_key, ids)
                texts = {k: index_title(*self.catalog.titles([a])[a]) for a, k in keys.items()}
                vectors = self.cache.get(keys.values())
                vectors.update(
                    embed_into_cache({k: t for k, t in texts.items() if k not in vectors}, self.embed_model, self.cache)
                )
                corpora = self.catalog.corpora(ids)
                with self.view.writing() as live:
                    live.add_titles(
                        list(keys),
                        np.stack([vectors[k] for k in keys.values()]) if keys else np.zeros((0, 1)),
                        [corpora.get(a, SHARED) for a in keys],
                    )
                done += len(ids)
                if progress:
                    progress(done, total)
            return True
        return False

    def missing_vectors(self) -> tuple[int, int, int, int]:
        """(chunk vectors in the live store, chunks in the catalog, title vectors, titled articles)."""
        chunks_stored, titles_stored = self.view.live().counts()
        _, chunks = self.catalog.counts()
        return chunks_stored, chunks, titles_stored, titled_articles(self.catalog)


def titled_articles(catalog: Catalog) -> int:
    """How many articles have a title vector (a title, or a URL whose slug makes one)."""
    from .chunking import title_from_url

    ((titled,),) = catalog.query("SELECT COUNT(*) FROM articles WHERE TRIM(title) != ''")
    untitled = catalog.query("SELECT url FROM articles WHERE TRIM(title) = ''")
    return int(titled) + sum(1 for (url,) in untitled if title_from_url(url))


def write_vectors(target: VectorStore, chunked: list[ChunkedArticle], vectors: dict[str, np.ndarray]) -> None:
    """Write articles' chunk and title vectors to a store, with the corpus each article is in."""
    rows = [(r, corpus_key(c.article.server)) for c in chunked for r in c.rows]
    if rows:
        target.add_chunks(
            [r.id for r, _ in rows],
            np.stack([vectors[r.embed_key] for r, _ in rows]),
            [r.article_id for r, _ in rows],
            [k for _, k in rows],
        )
    titled = [c for c in chunked if c.title]
    if titled:
        target.add_titles(
            [c.article.id for c in titled],
            np.stack([vectors[c.title_key] for c in titled]),
            [corpus_key(c.article.server) for c in titled],
        )


def _promote_staged(db: sqlite3.Connection, number: int) -> None:
    """Replace the chunks of every staged article still stored in the staged version (inside a transaction)."""
    current = (
        "SELECT DISTINCT s.article_id FROM staged_chunks s JOIN articles a ON a.id = s.article_id"
        " AND a.content_hash = s.content_hash WHERE s.generation = ?"
    )
    articles = [r[0] for r in db.execute(current, (number,))]
    for article_id in articles:
        seqs = [r[0] for r in db.execute("SELECT seq FROM chunks WHERE article_id=?", (article_id,))]
        delete_terms(db, seqs)
        db.execute("DELETE FROM chunks WHERE article_id=?", (article_id,))
        title, url, corpus = db.execute("SELECT title, url, server FROM articles WHERE id=?", (article_id,)).fetchone()
        from .chunking import index_title

        rows = [
            ChunkRow(i, a, o, t, k, _spans(s))
            for i, a, o, t, k, s in db.execute(
                "SELECT id, article_id, ordinal, text, embed_key, sentences FROM staged_chunks"
                " WHERE generation=? AND article_id=? ORDER BY ordinal",
                (number, article_id),
            )
        ]
        insert_chunks(db, rows, index_title(title, url), corpus)
    db.execute("DELETE FROM staged_chunks WHERE generation=?", (number,))


def _spans(text: str | None) -> tuple[tuple[int, int], ...]:
    import json

    return tuple((int(a), int(b)) for a, b in json.loads(text)) if text else ()
