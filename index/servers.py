"""Servers: every article belongs to one server's corpus or to the shared corpus that every server sees.

Isolation is a filter applied in the stores to every query, never a filter of their results: Chroma's
`where` on the `server` metadata of chunk and title vectors, an FTS5 column filter on the `server` column
of the keyword index, and the same condition on the catalog's reads of candidate evidence. The articles a
server's moderators hid are left out the same way.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace

from .errors import InvalidInput

SHARED = "*"  # the shared corpus, as stored (articles.server, the vectors' `server` metadata)
_SERVER_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
_SQL_BATCH = 500


def check_server(server: str | None) -> str | None:
    """A server id as given (None: the shared corpus); InvalidInput for one that cannot be used."""
    if server is None:
        return None
    if not isinstance(server, str) or not _SERVER_ID.fullmatch(server):
        raise InvalidInput(f"{str(server)[:80]!r} is not a server id (1 to 64 letters, digits, '_', '.', ':' or '-').")
    return server


def corpus_key(server: str | None) -> str:
    """How a corpus is stored: the server id, or SHARED for the shared corpus."""
    return SHARED if server is None else server


def server_of(key: str | None) -> str | None:
    """The server id a stored corpus key stands for (None: the shared corpus)."""
    return None if not key or key == SHARED else key


def keyword_token(key: str) -> str:
    """A corpus as one token of the keyword index's `server` column (unicode61 keeps letters and digits only)."""
    return "shared" if key == SHARED else "s" + hashlib.sha256(key.encode()).hexdigest()[:16]


def scoped_article_id(server: str, base: str) -> str:
    """The id of an article a server added: its own, so that servers adding the same page never share a row."""
    return base[:1] + hashlib.sha256(f"{server}\x1f{base}".encode()).hexdigest()[:15]


@dataclass(frozen=True)
class Scope:
    """What one server's questions may read: its own and the shared articles, less those its moderators hid;
    demoted articles are read but weigh less."""

    server: str | None
    hidden: frozenset[str] = frozenset()
    demoted: frozenset[str] = frozenset()
    everything: bool = False  # it reads every stored article: the vector store is searched unfiltered

    @property
    def keys(self) -> tuple[str, ...]:
        """The corpora this scope reads."""
        return (SHARED,) if self.server is None else (self.server, SHARED)

    def where(self) -> dict | None:
        """The Chroma filter of chunk and title vectors; None when the scope reads everything (a filtered search
        first lists every matching vector: 0.5 s at 100,000 chunks, where the unfiltered one takes 25 ms)."""
        if self.everything and not self.hidden:
            return None
        visible: dict = {"server": {"$in": list(self.keys)}}
        if not self.hidden:
            return visible
        return {"$and": [visible, {"article_id": {"$nin": sorted(self.hidden)}}]}

    def keyword_filter(self) -> str:
        """The FTS5 column filter of the keyword index (ANDed with the terms)."""
        return "server : (" + " OR ".join(f'"{keyword_token(k)}"' for k in self.keys) + ")"

    def visible(self, db: sqlite3.Connection, article_ids: Iterable[str]) -> set[str]:
        """The articles among ids that this scope may read (the catalog's side of the same filter)."""
        ids = list(dict.fromkeys(article_ids))
        out: set[str] = set()
        keys = list(self.keys)
        for start in range(0, len(ids), _SQL_BATCH):
            part = ids[start : start + _SQL_BATCH]
            marks, kmarks = ",".join("?" * len(part)), ",".join("?" * len(keys))
            out.update(
                r[0]
                for r in db.execute(
                    f"SELECT id FROM articles WHERE id IN ({marks}) AND server IN ({kmarks})", (*part, *keys)
                )
            )
        return out - self.hidden


def scope_for(db: sqlite3.Connection, server: str | None) -> Scope:
    """A server's scope with its moderators' hidden and demoted articles."""
    key = corpus_key(server)
    rows = db.execute("SELECT article_id, mode FROM moderation WHERE server = ?", (key,)).fetchall()
    scope = Scope(
        server, frozenset(a for a, m in rows if m == "hidden"), frozenset(a for a, m in rows if m == "demoted")
    )
    return replace(scope, everything=_holds_only(db, scope.keys))


def _holds_only(db: sqlite3.Connection, keys: Iterable[str]) -> bool:
    """True when every stored article belongs to one of these corpora (a few index seeks, whatever the size)."""
    bounds = sorted(keys)
    gaps: list[tuple[str, tuple[str, ...]]] = [("server < ?", (bounds[0],)), ("server > ?", (bounds[-1],))]
    gaps += [("server > ? AND server < ?", pair) for pair in zip(bounds, bounds[1:], strict=False)]
    return not any(db.execute(f"SELECT 1 FROM articles WHERE {gap} LIMIT 1", args).fetchone() for gap, args in gaps)


def log_event(
    db: sqlite3.Connection, article_id: str, key: str, title: str, action: str, actor: str | None, at: str
) -> None:
    """Record who did what to an article (inside the caller's transaction)."""
    db.execute(
        "INSERT INTO article_log(article_id, server, title, action, actor, at) VALUES(?,?,?,?,?,?)",
        (article_id, key, title, action, actor, at),
    )
