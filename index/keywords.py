"""Keyword search: SQLite FTS5 over each chunk's terms (its article's title and its text), BM25-ranked,
written in the same transaction as the chunks, so an article is searchable when its add returns."""

from __future__ import annotations

import re
import sqlite3
import threading
from typing import Iterable, Sequence

from .catalog import Catalog, store_error

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


def write(db: sqlite3.Connection, rows: Iterable[tuple[int, str]]) -> None:
    """Index chunks by catalog number (inside the caller's transaction)."""
    db.executemany("INSERT INTO chunk_terms(rowid, terms) VALUES(?, ?)", list(rows))


def delete(db: sqlite3.Connection, seqs: Sequence[int]) -> None:
    """Remove chunks from the index (inside the caller's transaction)."""
    db.executemany("DELETE FROM chunk_terms WHERE rowid = ?", [(s,) for s in seqs])


def _match(terms: Iterable[str]) -> str:
    return " OR ".join(f'"{t}"' for t in dict.fromkeys(terms) if t)


def query_terms(question: str) -> list[str]:
    """The question's terms, normalised as the chunks' are."""
    return list(dict.fromkeys(index_terms(question)))


def search(catalog: Catalog, terms: list[str], limit: int) -> list[tuple[int, float]]:
    """(chunk number, BM25 score) of the best chunks for the terms; very common terms do not nominate."""
    rare = _without_common(catalog, terms) or terms
    match = _match(rare)
    if not match:
        return []
    try:
        rows = catalog.reader().execute(
            "SELECT rowid, -bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?"
            " ORDER BY bm25(chunk_terms) LIMIT ?", (match, limit)).fetchall()
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
                f"SELECT rowid, -bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?"
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
