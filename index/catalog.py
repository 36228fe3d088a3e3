"""The catalog (SQLite): articles, their chunks and keyword index, the index state and the write journal.

Several processes may share it (the bot and a `newsdesk add` from a shell): WAL mode, a busy timeout, and
every change in one transaction that also bumps `index_state.change_seq`, which others watch.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from .articles import Article
from .errors import StoreError, storage_reason
from .results import ArticleInfo
from .servers import server_of

BUSY_SECONDS = 30
_BATCH = 500


@dataclass(frozen=True)
class ChunkRow:
    """A chunk as stored: its id, article, position, text, embedding-cache key and sentence spans."""

    id: str
    article_id: str
    ordinal: int
    text: str
    embed_key: str
    sentences: tuple[tuple[int, int], ...] = ()  # (start, end) of each sentence in text
    seq: int = 0  # the catalog's integer key (also the chunk's row in the keyword index)

    @classmethod
    def from_db(cls, row: tuple) -> ChunkRow:
        """A row as selected by CHUNK_COLUMNS."""
        seq, chunk_id, article_id, ordinal, text, embed_key, spans = row
        sentences = tuple((int(s[0]), int(s[1])) for s in json.loads(spans)) if spans else ()
        return cls(chunk_id, article_id, ordinal, text, embed_key, sentences, seq)


CHUNK_COLUMNS = "seq, id, article_id, ordinal, text, embed_key, sentences"


@dataclass(frozen=True)
class IndexState:
    """The one row of index state."""

    generation: int
    collection: str | None
    chunking: str | None
    needs_rebuild: bool
    change_seq: int
    seeded: bool
    rewrite_vectors: bool = False  # the store's vectors need re-writing from the stored chunks (metadata changed)


class Catalog:
    """The SQLite catalog, shared by threads and processes: writes go through one connection (one
    transaction at a time); each thread reads through its own, so questions never wait behind a write."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self._lock = threading.RLock()
        self._db = _connect(self.path, read_only)
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []

    @property
    def db(self) -> sqlite3.Connection:
        """The write connection (callers hold `lock` while they use it)."""
        return self._db

    @property
    def lock(self) -> threading.RLock:
        """The lock guarding the write connection."""
        return self._lock

    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (it sees every committed change)."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = _connect(self.path, self.read_only, reader=True)
            with self._lock:
                self._readers.append(db)
        return db

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            for db in self._readers:
                db.close()
            self._db.close()

    def query(self, sql: str, params: Iterable = ()) -> list[tuple]:
        """Rows of a read."""
        try:
            return self.reader().execute(sql, tuple(params)).fetchall()
        except sqlite3.Error as exc:
            raise store_error("read the catalog", exc) from exc

    @contextlib.contextmanager
    def transaction(self, what: str) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on any error)."""
        if self.read_only:
            raise StoreError(f"Cannot {what}: the data directory is read-only.")
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise store_error(what, exc) from exc
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise store_error(what, exc) from exc
                raise

    # state ----------------------------------------------------------------------------------------
    def state(self) -> IndexState:
        """The index state row."""
        row = self.query(
            "SELECT generation, collection, chunking, needs_rebuild, change_seq, seeded, rewrite_vectors"
            " FROM index_state WHERE id = 1"
        )
        if not row:
            return IndexState(0, None, None, False, 0, False)
        g, c, ch, nr, seq, seeded, rewrite = row[0]
        return IndexState(int(g), c, ch, bool(nr), int(seq), bool(seeded), bool(rewrite))

    def change_seq(self) -> int:
        """The counter every committed change bumps."""
        return self.state().change_seq

    def set_state(self, db: sqlite3.Connection | None = None, **values: object) -> None:
        """Update fields of the index state (inside the caller's transaction when db is given)."""
        if not values:
            return
        columns = ", ".join(f"{k} = ?" for k in values)
        sql = f"UPDATE index_state SET {columns} WHERE id = 1"
        if db is not None:
            db.execute(sql, tuple(values.values()))
        else:
            with self.transaction("update the index state") as tx:
                tx.execute(sql, tuple(values.values()))

    @staticmethod
    def bump(db: sqlite3.Connection, article_ids: Iterable[str] = ()) -> None:
        """Record a change (inside a transaction): the counter others watch, and the changed articles."""
        db.execute("UPDATE index_state SET change_seq = change_seq + 1 WHERE id = 1")
        db.executemany("INSERT INTO change_log(article_id) VALUES(?)", [(a,) for a in article_ids])

    # articles -------------------------------------------------------------------------------------
    def content_hash(self, article_id: str) -> str | None:
        """The stored version's content hash, or None when the article is not stored."""
        rows = self.query("SELECT content_hash FROM articles WHERE id=?", (article_id,))
        return rows[0][0] if rows else None

    def article(self, article_id: str) -> Article | None:
        """The stored article, or None."""
        rows = self.query(
            "SELECT title, body, outlet, published, url, authors, server FROM articles WHERE id=?", (article_id,)
        )
        if not rows:
            return None
        title, body, outlet, published, url, authors, server = rows[0]
        return Article(
            title=title,
            body=body,
            outlet=outlet,
            url=url,
            authors=tuple(json.loads(authors)),
            published=date.fromisoformat(published) if published else None,
            server=server_of(server),
            stored_id=article_id,
        )

    def article_ids(self) -> list[str]:
        """Every stored article's id, oldest added first."""
        return [r[0] for r in self.query("SELECT id FROM articles ORDER BY added_at, id")]

    def infos(
        self, query: str | None = None, limit: int | None = None, corpora: Sequence[str] | None = None
    ) -> list[ArticleInfo]:
        """Article listings, newest published first; optionally those whose title/outlet/id/url contain query,
        and only those of the given corpora (servers.corpus_key)."""
        sql = f"SELECT {_INFO_COLUMNS} FROM articles a WHERE 1"
        params: list = []
        if corpora is not None:
            sql += f" AND a.server IN ({','.join('?' * len(corpora))})"
            params += list(corpora)
        if query:
            sql += (
                " AND (a.title LIKE ? ESCAPE '\\' OR a.outlet LIKE ? ESCAPE '\\' OR a.id LIKE ? ESCAPE '\\'"
                " OR a.url LIKE ? ESCAPE '\\')"
            )
            like = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            params += [like] * 4
        sql += " ORDER BY COALESCE(a.published, '') DESC, a.added_at DESC"
        if limit:
            sql += " LIMIT ?"
            params.append(int(limit))
        return [_info(row) for row in self.query(sql, params)]

    def info(self, article_id: str) -> ArticleInfo | None:
        """One listing, or None."""
        found = self.infos_for([article_id])
        return found[0] if found else None

    def infos_for(self, ids: Iterable[str]) -> list[ArticleInfo]:
        """Listings of the given articles (unknown ids skipped)."""
        out: list[ArticleInfo] = []
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            out += [
                _info(r) for r in self.query(f"SELECT {_INFO_COLUMNS} FROM articles a WHERE a.id IN ({marks})", part)
            ]
        return out

    def published_dates(self, ids: Iterable[str]) -> dict[str, date | None]:
        """Publication date of each stored article among ids."""
        out: dict[str, date | None] = {}
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            for article_id, published in self.query(f"SELECT id, published FROM articles WHERE id IN ({marks})", part):
                out[article_id] = date.fromisoformat(published) if published else None
        return out

    def corpora(self, ids: Iterable[str]) -> dict[str, str]:
        """The corpus (servers.corpus_key) of each stored article among ids."""
        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            out.update(self.query(f"SELECT id, server FROM articles WHERE id IN ({marks})", part))
        return out

    def revisions(self, ids: Iterable[str]) -> dict[str, tuple[date | None, tuple[str, ...]]]:
        """Of each stored article among ids: when its text last changed (None: never since it was added) and
        its correction notices."""
        out: dict[str, tuple[date | None, tuple[str, ...]]] = {}
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            for article_id, updated, corrections in self.query(
                f"SELECT id, updated_at, corrections FROM articles WHERE id IN ({marks})", part
            ):
                out[article_id] = (
                    datetime.fromisoformat(updated).date() if updated else None,
                    tuple(json.loads(corrections or "[]")),
                )
        return out

    def titles(self, ids: Iterable[str]) -> dict[str, tuple[str, str | None]]:
        """(title, url) of each stored article among ids."""
        out: dict[str, tuple[str, str | None]] = {}
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            for article_id, title, url in self.query(
                f"SELECT id, title, url FROM articles WHERE id IN ({marks})", part
            ):
                out[article_id] = (title, url)
        return out

    def chunk_count(self) -> int:
        """How many chunks are stored (remembered until the next change)."""
        seq = self.change_seq()
        cached = getattr(self, "_chunk_total", None)
        if cached is None or cached[0] != seq:
            cached = self._chunk_total = (seq, self.counts()[1])
        return int(cached[1])

    def counts(self, corpus: str | None = None) -> tuple[int, int]:
        """(articles, chunks), of every corpus or of one (servers.corpus_key)."""
        if corpus is not None:
            ((articles,),) = self.query("SELECT COUNT(*) FROM articles WHERE server=?", (corpus,))
            ((chunks,),) = self.query(
                "SELECT COUNT(*) FROM chunks c JOIN articles a ON a.id = c.article_id WHERE a.server=?", (corpus,)
            )
            return int(articles), int(chunks)
        ((articles,),) = self.query("SELECT COUNT(*) FROM articles")
        ((chunks,),) = self.query("SELECT COUNT(*) FROM chunks")
        return int(articles), int(chunks)

    # chunks ---------------------------------------------------------------------------------------
    def chunks(self, article_id: str) -> list[ChunkRow]:
        """The stored chunks of one article, in order."""
        return [
            ChunkRow.from_db(r)
            for r in self.query(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE article_id=? ORDER BY ordinal", (article_id,)
            )
        ]

    def chunks_of(self, article_ids: Iterable[str]) -> list[ChunkRow]:
        """The chunks of several articles, grouped by article in the order given, each in order."""
        ids = list(dict.fromkeys(article_ids))
        found: dict[str, list[ChunkRow]] = {a: [] for a in ids}
        for part in _batches(ids):
            marks = ",".join("?" * len(part))
            for r in self.query(
                f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE article_id IN ({marks}) ORDER BY article_id, ordinal", part
            ):
                found[r[2]].append(ChunkRow.from_db(r))
        return [row for a in ids for row in found[a]]

    def chunk_rows(self, ids: list[str]) -> list[ChunkRow]:
        """The stored chunks among ids, in the order given (unknown ids skipped)."""
        found: dict[str, ChunkRow] = {}
        for part in _batches(ids):
            marks = ",".join("?" * len(part))
            for row in self.query(f"SELECT {CHUNK_COLUMNS} FROM chunks WHERE id IN ({marks})", part):
                found[row[1]] = ChunkRow.from_db(row)
        return [found[i] for i in ids if i in found]

    def chunk_articles(self, ids: Iterable[str]) -> dict[str, str]:
        """The article of each stored chunk among ids."""
        out: dict[str, str] = {}
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            out.update(self.query(f"SELECT id, article_id FROM chunks WHERE id IN ({marks})", part))
        return out

    def chunk_ids(self, article_ids: Iterable[str] | None = None) -> set[str]:
        """Ids of every stored chunk (of the given articles)."""
        if article_ids is None:
            return {r[0] for r in self.query("SELECT id FROM chunks")}
        out: set[str] = set()
        for part in _batches(list(article_ids)):
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in self.query(f"SELECT id FROM chunks WHERE article_id IN ({marks})", part))
        return out

    def chunk_keys_of(self, article_ids: Iterable[str]) -> list[tuple[int, str, str, str]]:
        """(number, chunk id, article id, embedding key) of every chunk of the articles, in the order given."""
        ids = list(dict.fromkeys(article_ids))
        found: dict[str, list[tuple[int, str, str, str]]] = {a: [] for a in ids}
        for part in _batches(ids):
            marks = ",".join("?" * len(part))
            for row in self.query(
                f"SELECT seq, id, article_id, embed_key FROM chunks WHERE article_id IN ({marks})"
                " ORDER BY article_id, ordinal",
                part,
            ):
                found[row[2]].append((int(row[0]), row[1], row[2], row[3]))
        return [row for a in ids for row in found[a]]

    def articles_of_seqs(self, seqs: Iterable[int]) -> dict[int, str]:
        """The article of each chunk number among seqs."""
        out: dict[int, str] = {}
        for part in _batches(list(seqs)):
            marks = ",".join("?" * len(part))
            out.update(
                (int(s), a) for s, a in self.query(f"SELECT seq, article_id FROM chunks WHERE seq IN ({marks})", part)
            )
        return out

    def chunk_ids_in(self, ids: Iterable[str]) -> set[str]:
        """The stored chunk ids among ids."""
        out: set[str] = set()
        for part in _batches(list(ids)):
            marks = ",".join("?" * len(part))
            out.update(r[0] for r in self.query(f"SELECT id FROM chunks WHERE id IN ({marks})", part))
        return out

    def article_batches(self, size: int, corpus: str | None = None) -> Iterator[list[str]]:
        """Every article id (of one corpus), in batches (by id order, so that a changing table is walked once)."""
        last = ""
        where = "" if corpus is None else " AND server = ?"
        extra = () if corpus is None else (corpus,)
        while True:
            ids = [
                r[0]
                for r in self.query(
                    f"SELECT id FROM articles WHERE id > ?{where} ORDER BY id LIMIT ?", (last, *extra, size)
                )
            ]
            if not ids:
                return
            yield ids
            last = ids[-1]


_INFO_COLUMNS = (
    "a.id, a.title, a.outlet, a.published, a.url, a.added_at, "
    "(SELECT COUNT(*) FROM chunks c WHERE c.article_id=a.id), a.server, a.added_by"
)


def _batches(items: list, size: int = _BATCH) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def spans_json(spans: tuple[tuple[int, int], ...]) -> str | None:
    """Sentence spans as stored."""
    return json.dumps(spans, separators=(",", ":")) if spans else None


def now_text() -> str:
    """The current UTC time as stored."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _info(row: tuple) -> ArticleInfo:
    article_id, title, outlet, published, url, added_at, chunks, server, added_by = row
    return ArticleInfo(
        id=article_id,
        title=title,
        outlet=outlet,
        url=url,
        chunks=chunks,
        published=date.fromisoformat(published) if published else None,
        added_at=datetime.fromisoformat(added_at) if added_at else None,
        server=server_of(server),
        added_by=added_by,
    )


def store_error(what: str, exc: sqlite3.Error) -> StoreError:
    """A catalog failure as the user should read it."""
    text = str(exc)
    if "malformed" in text.lower() or "not a database" in text.lower():
        return StoreError(f"Could not {what}: the catalog is damaged ({text}); restore newsdesk.sqlite3 from a backup.")
    return StoreError(f"Could not {what}: {storage_reason(text)}.")


def _connect(path: Path, read_only: bool, reader: bool = False) -> sqlite3.Connection:
    where = str(path)
    if path.is_dir():
        raise StoreError(f"The catalog {where} is a folder, not a file; check NEWSDESK_DATA_DIR.")
    try:
        if read_only:
            if not path.exists():
                raise StoreError(f"The data directory is read-only and holds no catalog ({where}).")
            db = sqlite3.connect(
                f"file:{path}?mode=ro&immutable=1", uri=True, check_same_thread=False, isolation_level=None
            )
        else:
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=BUSY_SECONDS)
            if reader:
                db.execute("PRAGMA query_only=ON")
            else:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")
        db.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreError(
                f"The catalog {where} is damaged or is not a Newsdesk catalog ({exc}). Restore it "
                "from a backup; or move the data directory aside and add the articles again."
            ) from exc
        if isinstance(exc, sqlite3.OperationalError) and "unable to open" in str(exc):
            reason = "permission denied" if path.exists() and not os.access(path, os.R_OK) else str(exc)
            raise StoreError(f"The catalog {where} cannot be opened ({reason}).") from exc
        raise store_error("open the catalog", exc) from exc
    return db
