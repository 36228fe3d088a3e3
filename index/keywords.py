"""Keyword search: SQLite FTS5 over each chunk's terms (its article's title and its text), BM25-ranked,
written in the same transaction as the chunks, so an article is searchable when its add returns. A second
column holds the chunk's corpus as a token (servers.keyword_token): every search is ANDed with a column
filter on it, so that FTS5 only ranks chunks of the corpora the question may read."""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import TYPE_CHECKING, Iterable, Sequence

from .catalog import Catalog, store_error

if TYPE_CHECKING:
    from .servers import Scope

COMMON_SHARE = 0.2  # a term in more than this share of chunks nominates no candidates (it still scores them)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset("a an and are as at be but by for if in into is it no not of on or such that the their then "
                  "there these they this to was will with".split())
_STEMMER = threading.local()


def index_terms(text: str) -> list[str]:
    """Lower-cased, Snowball-stemmed words of two or more characters, English stop words left out."""
    stemmer = getattr(_STEMMER, "value", None)
    if stemmer is None:
        import Stemmer

        stemmer = _STEMMER.value = Stemmer.Stemmer("english")
    return stemmer.stemWords([w for w in _TOKEN.findall(text.lower()) if w not in _STOP])


def terms_text(title: str, text: str) -> str:
    """What a chunk is keyword-indexed as: the normalised terms of its article's title and its text."""
    return " ".join(index_terms(f"{title}\n\n{text}"))


def write(db: sqlite3.Connection, rows: Iterable[tuple[int, str, str]]) -> None:
    """Index chunks by catalog number: (seq, terms, corpus token) (inside the caller's transaction)."""
    db.executemany("INSERT INTO chunk_terms(rowid, terms, server) VALUES(?, ?, ?)", list(rows))


def set_corpus(db: sqlite3.Connection, seqs: Sequence[int], token: str) -> None:
    """Move chunks to another corpus (inside the caller's transaction)."""
    db.executemany("UPDATE chunk_terms SET server = ? WHERE rowid = ?", [(token, s) for s in seqs])


def delete(db: sqlite3.Connection, seqs: Sequence[int]) -> None:
    """Remove chunks from the index (inside the caller's transaction)."""
    db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(s,) for s in seqs])


def _match(terms: Iterable[str]) -> str:
    words = " OR ".join(f'"{t}"' for t in dict.fromkeys(terms) if t)
    return f"terms : ({words})" if words else ""


def query_terms(question: str) -> list[str]:
    """The question's terms, normalised as the chunks' are."""
    return list(dict.fromkeys(index_terms(question)))


def search(catalog: Catalog, terms: list[str], limit: int, scope: "Scope") -> list[tuple[int, float]]:
    """(chunk number, BM25 score) of the best chunks for the terms among those the scope may read; very
    common terms do not nominate. The corpus column weighs nothing in the score."""
    rare = _without_common(catalog, terms) or terms
    match = _match(rare)
    if not match:
        return []
    hidden, params = "", [f"{match} AND {scope.keyword_filter()}"]
    if scope.hidden:
        hidden = (" AND rowid NOT IN (SELECT seq FROM chunks WHERE article_id IN"
                  f" ({','.join('?' * len(scope.hidden))}))")
        params += sorted(scope.hidden)
    try:
        rows = catalog.reader().execute(
            f"SELECT rowid, -bm25(chunk_terms, 1.0, 0.0) FROM chunk_terms WHERE chunk_terms MATCH ?{hidden}"
            " ORDER BY bm25(chunk_terms, 1.0, 0.0) LIMIT ?", (*params, limit)).fetchall()
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return [(int(r), float(s)) for r, s in rows]


def scores(catalog: Catalog, terms: list[str], seqs: Sequence[int]) -> dict[int, float]:
    """BM25 score of each of the given chunks for all the terms (chunks that match none are left out)."""
    match = _match(terms)
    if not match or not seqs:
        return {}
    out: dict[int, float] = {}
    try:
        db = catalog.reader()
        for start in range(0, len(seqs), 900):
            part = list(seqs[start : start + 900])
            marks = ",".join("?" * len(part))
            out.update((int(r), float(s)) for r, s in db.execute(
                f"SELECT rowid, -bm25(chunk_terms, 1.0, 0.0) FROM chunk_terms WHERE chunk_terms MATCH ?"
                f" AND rowid IN ({marks})", (match, *part)))
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return out


def _without_common(catalog: Catalog, terms: list[str]) -> list[str]:
    """The terms found in at most COMMON_SHARE of the chunks."""
    if len(terms) <= 1:
        return terms
    try:
        db = catalog.reader()
        total = catalog.chunk_count()
        marks = ",".join("?" * len(terms))
        df = dict(db.execute(f"SELECT term, doc FROM chunk_terms_vocab WHERE term IN ({marks})", terms).fetchall())
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return [t for t in terms if df.get(t, 0) <= COMMON_SHARE * max(1, total)]
