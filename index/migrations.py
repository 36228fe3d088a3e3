"""The catalog's persisted format as one ordered list of numbered migrations (the pattern of simonw/llm's
embeddings_migrations.py): each runs once, in order, in its own transaction, and is recorded by name."""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from .embedcache import EmbeddingCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Context:
    """What a migration may need beyond the catalog's own connection."""

    cache: EmbeddingCache
    terms_text: Callable[[str, str], str]
    data_dir: Path
    embed_model: Any = None  # the engine's embedding model (None: what needs it is left to Engine.open)
    model_key: str = ""


Migration = Callable[[sqlite3.Connection, Context], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(fn: Migration) -> Migration:
    """Register a migration; its name (m001_...) fixes its place in the list."""
    MIGRATIONS.append((fn.__name__, fn))
    return fn


def apply(db: sqlite3.Connection, context: Context) -> list[str]:
    """Run every migration not yet applied; returns the names of those that ran."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in db.execute("SELECT name FROM _migrations")}
    ran = []
    for name, fn in sorted(MIGRATIONS):  # the name fixes the place, whatever order the functions were defined in
        if name in done:
            continue
        log.info("Upgrading the catalog: %s", name)
        db.execute("BEGIN IMMEDIATE")
        try:
            if name not in {r[0] for r in db.execute("SELECT name FROM _migrations")}:  # another process won
                fn(db, context)
                db.execute(
                    "INSERT INTO _migrations(name, applied_at) VALUES(?, ?)",
                    (name, datetime.now(UTC).isoformat(timespec="seconds")),
                )
                ran.append(name)
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already (disk full)
                db.execute("ROLLBACK")
            raise
    return ran


def pending(db: sqlite3.Connection) -> list[str]:
    """Names of the migrations a catalog still needs (all of them for one that has none)."""
    try:
        done = {r[0] for r in db.execute("SELECT name FROM _migrations")}
    except sqlite3.OperationalError:
        done = set()
    return [name for name, _ in sorted(MIGRATIONS) if name not in done]


@migration
def m001_release0(db: sqlite3.Connection, context: Context) -> None:
    """The schema of the first release (a catalog it made already has it)."""
    for statement in (
        """CREATE TABLE IF NOT EXISTS articles (
            id TEXT PRIMARY KEY, title TEXT NOT NULL, outlet TEXT, published TEXT, url TEXT,
            authors TEXT NOT NULL DEFAULT '[]', body TEXT NOT NULL, content_hash TEXT NOT NULL,
            added_at TEXT NOT NULL)""",
        """CREATE TABLE IF NOT EXISTS chunks (
            id TEXT PRIMARY KEY, article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
            ordinal INTEGER NOT NULL, text TEXT NOT NULL, embed_key TEXT NOT NULL, sentences TEXT)""",
        "CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)",
        "CREATE TABLE IF NOT EXISTS state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    ):
        db.execute(statement)
    if "sentences" not in {r[1] for r in db.execute("PRAGMA table_info(chunks)")}:
        db.execute("ALTER TABLE chunks ADD COLUMN sentences TEXT")


@migration
def m002_embeddings_to_cache(db: sqlite3.Connection, context: Context) -> None:
    """Vectors move from the catalog's own table to the embedding cache, shared and kept in one place."""
    last = ""
    while True:
        rows = db.execute(
            "SELECT key, vector FROM embeddings WHERE key > ? ORDER BY key LIMIT 20000", (last,)
        ).fetchall()
        if not rows:
            break
        context.cache.put({key: np.frombuffer(blob, dtype=np.float32) for key, blob in rows})
        last = rows[-1][0]
    db.execute("DROP TABLE embeddings")


@migration
def m003_index_state(db: sqlite3.Connection, context: Context) -> None:
    """One typed row of index state instead of string keys: the live generation, the chunking it was
    built with, a counter every change bumps (other processes follow it), whether the seeds were added."""
    state = dict(db.execute("SELECT key, value FROM state").fetchall())
    db.execute("""CREATE TABLE index_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        generation INTEGER NOT NULL DEFAULT 0,
        collection TEXT,
        chunking TEXT,
        needs_rebuild INTEGER NOT NULL DEFAULT 0,
        change_seq INTEGER NOT NULL DEFAULT 0,
        seeded INTEGER NOT NULL DEFAULT 0)""")
    chunking = state.get("chunking") or None  # "3:200:40" was method 3 (today's), size 200, overlap 40
    if chunking and chunking.count(":") == 2:
        method, size_overlap = chunking.split(":", 1)
        chunking = size_overlap if method == "3" else f"old-{chunking}"
    db.execute(
        "INSERT INTO index_state(id, generation, collection, chunking, needs_rebuild, change_seq, seeded)"
        " VALUES(1, ?, ?, ?, ?, ?, ?)",
        (
            int(state.get("generation") or 0),
            state.get("collection") or None,
            chunking,
            1 if state.get("needs_rebuild") else 0,
            int(state.get("version") or 0),
            1 if state.get("seeded") else 0,
        ),
    )
    db.execute("DROP TABLE state")
    db.execute("DROP TABLE IF EXISTS chunks_next")


@migration
def m004_chunk_numbers_and_keywords(db: sqlite3.Connection, context: Context) -> None:
    """Chunks get a stable integer key, and a full-text index (FTS5, BM25 ranking) over their terms that
    is updated in the same transaction as the chunks themselves."""
    db.execute("""CREATE TABLE chunks_v2 (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        ordinal INTEGER NOT NULL, text TEXT NOT NULL, embed_key TEXT NOT NULL, sentences TEXT)""")
    db.execute(
        "INSERT INTO chunks_v2(id, article_id, ordinal, text, embed_key, sentences)"
        " SELECT id, article_id, ordinal, text, embed_key, sentences FROM chunks ORDER BY article_id, ordinal"
    )
    db.execute("DROP TABLE chunks")
    db.execute("ALTER TABLE chunks_v2 RENAME TO chunks")
    db.execute("CREATE INDEX chunks_article ON chunks(article_id, ordinal)")
    db.execute("CREATE VIRTUAL TABLE chunk_terms USING fts5(terms, tokenize='unicode61 remove_diacritics 0')")
    db.execute("CREATE VIRTUAL TABLE chunk_terms_vocab USING fts5vocab(chunk_terms, 'row')")
    titles = {a: _index_title(t, u) for a, t, u in db.execute("SELECT id, title, url FROM articles")}
    rows = db.execute("SELECT seq, article_id, text FROM chunks").fetchall()
    db.executemany(
        "INSERT INTO chunk_terms(rowid, terms) VALUES(?, ?)",
        [(seq, context.terms_text(titles.get(a, ""), text)) for seq, a, text in rows],
    )
    shutil.rmtree(context.data_dir / "bm25", ignore_errors=True)  # the keyword index and vector copies it replaces


@migration
def m005_journal(db: sqlite3.Connection, context: Context) -> None:
    """A journal of vector-store work in flight (undone or finished after a crash), a log of changed
    articles (what a rebuild must bring over), and the vector-store generations being built."""
    db.execute("""CREATE TABLE pending_vectors (
        id INTEGER PRIMARY KEY, action TEXT NOT NULL CHECK (action IN ('add', 'delete')),
        chunk_ids TEXT NOT NULL, title_ids TEXT NOT NULL DEFAULT '[]', created_at TEXT NOT NULL)""")
    db.execute("CREATE TABLE change_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL)")
    db.execute("""CREATE TABLE generations (
        number INTEGER PRIMARY KEY, collection TEXT NOT NULL, state TEXT NOT NULL
            CHECK (state IN ('building', 'live', 'retired')),
        started_seq INTEGER NOT NULL DEFAULT 0, rechunk INTEGER NOT NULL DEFAULT 0, started_at TEXT NOT NULL)""")
    db.execute("""CREATE TABLE staged_chunks (
        id TEXT PRIMARY KEY, generation INTEGER NOT NULL, article_id TEXT NOT NULL, ordinal INTEGER NOT NULL,
        text TEXT NOT NULL, embed_key TEXT NOT NULL, sentences TEXT, content_hash TEXT NOT NULL)""")
    live = db.execute("SELECT generation, collection FROM index_state WHERE id = 1").fetchone()
    if live and live[1]:
        db.execute(
            "INSERT INTO generations(number, collection, state, started_at) VALUES(?, ?, 'live', ?)",
            (live[0], live[1], datetime.now(UTC).isoformat(timespec="seconds")),
        )


@migration
def m006_sentence_spans(db: sqlite3.Connection, context: Context) -> None:
    """Chunks' stored sentence boundaries come from the one sentence splitter (index.text), which gets
    abbreviations right ("Gov.", "U.S.", "Dec. 19"); answers read them, so they are computed again here."""
    from .catalog import spans_json
    from .text import sentence_spans

    rows = db.execute("SELECT seq, text FROM chunks").fetchall()
    db.executemany(
        "UPDATE chunks SET sentences = ? WHERE seq = ?", [(spans_json(sentence_spans(text)), seq) for seq, text in rows]
    )


@migration
def m007_feeds(db: sqlite3.Connection, context: Context) -> None:
    """Live intake's sources: feeds and sitemaps with their polling state (polling.FeedState as JSON), the
    items each feed listed (so that an item that redirects or fails is not fetched at every poll), and the
    progress of bulk imports (a file, by digest, and how many of its lines have landed)."""
    db.execute("""CREATE TABLE feeds (
        id INTEGER PRIMARY KEY, url TEXT NOT NULL, title TEXT, state TEXT NOT NULL DEFAULT '{}',
        added_at TEXT NOT NULL, server TEXT)""")
    db.execute("CREATE UNIQUE INDEX feeds_url ON feeds(IFNULL(server, ''), url)")
    db.execute("""CREATE TABLE feed_items (
        feed_id INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE, url TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('added', 'failed', 'skipped')),
        attempts INTEGER NOT NULL DEFAULT 0, last_error TEXT, article_id TEXT, seen_at TEXT NOT NULL,
        PRIMARY KEY (feed_id, url)) WITHOUT ROWID""")
    db.execute("""CREATE TABLE imports (
        digest TEXT PRIMARY KEY, path TEXT NOT NULL, total INTEGER NOT NULL DEFAULT 0,
        position INTEGER NOT NULL DEFAULT 0, recorded INTEGER NOT NULL DEFAULT 0,
        added INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0,
        started_at TEXT NOT NULL, finished_at TEXT)""")


@migration
def m008_clutter_and_updates(db: sqlite3.Connection, context: Context) -> None:
    """Articles keep the body as it came when cleaning changed it (raw_body; `body` is the cleaned text that is
    chunked), their correction notices apart (JSON list), when their page was fetched with its validators
    (for conditional re-fetches) and when their content last changed; `line_seen` counts each outlet's
    lines (index/clutter.py), filled here from the articles already stored."""
    from .clutter import LINE_STATS_SCHEMA, SqliteLineStats, body_fingerprints, outlet_key

    for column in (
        "raw_body TEXT",
        "corrections TEXT NOT NULL DEFAULT '[]'",
        "fetched_at TEXT",
        "etag TEXT",
        "last_modified TEXT",
        "updated_at TEXT",
    ):
        db.execute(f"ALTER TABLE articles ADD COLUMN {column}")
    for statement in LINE_STATS_SCHEMA.split(";"):
        if statement.strip():
            db.execute(statement)
    stats, last = SqliteLineStats(db), ""
    while rows := db.execute(
        "SELECT id, url, body FROM articles WHERE id > ? ORDER BY id LIMIT 500", (last,)
    ).fetchall():
        for article_id, url, body in rows:
            if outlet := outlet_key(url):
                stats.record(outlet, article_id, body_fingerprints(body))
        last = rows[-1][0]


@migration
def m009_servers(db: sqlite3.Connection, context: Context) -> None:
    """A corpus per server: each article belongs to a server or to the shared corpus (every article stored so
    far), with who added it; the keyword index gets a `server` column that questions filter on; articles a
    server's moderators hid or demoted; a log of who added or removed what. The vector store's vectors get
    the `server` metadata they are filtered on by re-writing them from the stored chunks and the embedding
    cache at the next start (rewrite_vectors: nothing is re-chunked or embedded)."""
    for statement in (
        "ALTER TABLE articles ADD COLUMN server TEXT NOT NULL DEFAULT '*'",
        "ALTER TABLE articles ADD COLUMN origin TEXT NOT NULL DEFAULT '*'",
        "ALTER TABLE articles ADD COLUMN added_by TEXT",
        "CREATE INDEX articles_server ON articles(server, published)",
        """CREATE TABLE article_log (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, article_id TEXT NOT NULL, server TEXT NOT NULL,
            title TEXT NOT NULL, action TEXT NOT NULL, actor TEXT, at TEXT NOT NULL)""",
        "CREATE INDEX article_log_server ON article_log(server, action, seq)",
        """CREATE TABLE moderation (
            server TEXT NOT NULL, article_id TEXT NOT NULL, mode TEXT NOT NULL CHECK (mode IN ('hidden', 'demoted')),
            actor TEXT, reason TEXT, at TEXT NOT NULL, PRIMARY KEY (server, article_id))""",
        "CREATE TABLE pending_scopes (article_id TEXT PRIMARY KEY)",
        "ALTER TABLE index_state ADD COLUMN rewrite_vectors INTEGER NOT NULL DEFAULT 0",
        "CREATE VIRTUAL TABLE chunk_terms_v2 USING fts5(terms, server, tokenize='unicode61 remove_diacritics 0')",
        "INSERT INTO chunk_terms_v2(rowid, terms, server) SELECT rowid, terms, 'shared' FROM chunk_terms",
        "DROP TABLE chunk_terms_vocab",
        "DROP TABLE chunk_terms",
        "ALTER TABLE chunk_terms_v2 RENAME TO chunk_terms",
        "CREATE VIRTUAL TABLE chunk_terms_vocab USING fts5vocab(chunk_terms, 'row')",
        "UPDATE index_state SET rewrite_vectors = 1 WHERE EXISTS (SELECT 1 FROM articles)",
    ):
        db.execute(statement)


@migration
def m010_question_log(db: sqlite3.Connection, context: Context) -> None:
    """The question log (what each server asked, what was cited, how long it took, whether it was covered;
    askers as salted hashes) and the feedback on answers, with a copy of what it rates."""
    db.execute("""CREATE TABLE questions (
        id INTEGER PRIMARY KEY, server TEXT NOT NULL, asked_at TEXT NOT NULL, question TEXT NOT NULL,
        as_of TEXT NOT NULL, answer TEXT NOT NULL, covered INTEGER NOT NULL, cited TEXT NOT NULL,
        ms INTEGER NOT NULL, asker TEXT, answerer TEXT NOT NULL)""")
    db.execute("CREATE INDEX questions_server ON questions(server, asked_at)")
    db.execute("CREATE INDEX questions_time ON questions(asked_at)")
    db.execute("""CREATE TABLE feedback (
        id INTEGER PRIMARY KEY, question_id INTEGER NOT NULL, server TEXT NOT NULL, user TEXT NOT NULL,
        vote INTEGER NOT NULL CHECK (vote IN (-1, 1)), reason TEXT, question TEXT NOT NULL, as_of TEXT NOT NULL,
        answer TEXT NOT NULL, cited TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
        UNIQUE (question_id, user))""")
    db.execute("CREATE INDEX feedback_server ON feedback(server, updated_at)")


@migration
def m011_server_config(db: sqlite3.Connection, context: Context) -> None:
    """Each server's settings (a JSON object its face owns the meaning of) and the digests posted or skipped,
    one a day at most."""
    db.execute("CREATE TABLE server_config (server TEXT PRIMARY KEY, config TEXT NOT NULL, updated_at TEXT NOT NULL)")
    db.execute("""CREATE TABLE digests (
        server TEXT NOT NULL, day TEXT NOT NULL, status TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (server, day))""")


@migration
def m012_stories(db: sqlite3.Connection, context: Context) -> None:
    """Stories (index.stories): the assigner's tables, and every stored article assigned to its story in
    publication order. Only the story texts (headline and lead, one short text an article) are embedded; without
    an embedding model here, Engine.open assigns them (it does whenever the story vectors' model is not its own)."""
    from .story_writer import StoryWriter, create_story_tables

    create_story_tables(db)
    if context.embed_model is not None and context.model_key:
        report = StoryWriter(context.cache, context.embed_model, context.model_key).assign_all(db)
        times = sorted(report.add_ms) or [0.0]
        log.info(
            "Stories assigned to %d articles: %d story texts embedded in %.1f s, assigned in %.1f s "
            "(p50 %.1f ms, p95 %.1f ms an article)",
            report.articles,
            report.embedded,
            report.embed_seconds,
            report.assign_seconds,
            times[len(times) // 2],
            times[int(len(times) * 0.95)],
        )


def _index_title(title: str, url: str | None) -> str:
    from .chunking import index_title

    return index_title(title, url)


def dumps(ids: list[str]) -> str:
    """Chunk or title ids as stored in the journal."""
    return json.dumps(ids, separators=(",", ":"))
