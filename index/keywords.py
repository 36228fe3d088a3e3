"""Keyword search: SQLite FTS5 over each chunk's terms (its article's title and its text), BM25-ranked,
written in the same transaction as the chunks, so an article is searchable when its add returns. A second
column holds the chunk's corpus as a token (servers.keyword_token): every search is ANDed with a column
filter on it, so that FTS5 only ranks chunks of the corpora the question may read."""

from __future__ import annotations

import math
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .catalog import Catalog, store_error

if TYPE_CHECKING:
    from .servers import Scope

BM25_K1, BM25_B = 1.2, 0.75  # FTS5's bm25() defaults; the idf is Lucene's (TermStats.idf)
COMMON_SHARE = 0.05  # a term in more than this share of chunks nominates no candidates (it still scores them)
_TOKEN = re.compile(r"(?u)\b\w\w+\b")
_STOP = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then "
    "there these they this to was will with".split()
)
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


@dataclass(frozen=True)
class TermStats:
    """What BM25 needs beside a chunk's own terms: how many chunks there are, their average length in terms, and
    how many chunks hold each query term."""

    rows: int
    avg_length: float
    docs: dict[str, int]

    def idf(self) -> dict[str, float]:
        """Each held term's inverse document frequency, Lucene's (as bm25s computed it before FTS5): a term in most
        chunks still counts a little, where FTS5's own bm25() gives it nothing."""
        return {t: math.log(1 + (self.rows - n + 0.5) / (n + 0.5)) for t, n in self.docs.items() if n}


def term_stats(catalog: Catalog, terms: Sequence[str]) -> TermStats:
    """The index's size and the document frequency of each term (one vocabulary lookup per term)."""
    try:
        db = catalog.reader()
        found = db.execute("SELECT block FROM chunk_terms_data WHERE id = 1").fetchone()
        rows, tokens = (_varints(found[0]) + [0, 0])[:2] if found else (0, 0)
        docs = {}
        for term in dict.fromkeys(t for t in terms if t):
            row = db.execute("SELECT doc FROM chunk_terms_vocab WHERE term = ?", (term,)).fetchone()
            docs[term] = int(row[0]) if row else 0
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return TermStats(rows, tokens / rows if rows else 1.0, docs)


def _varints(blob: bytes) -> list[int]:
    """SQLite varints, as FTS5 stores its totals (the 'averages' record: rows, then tokens per column)."""
    out, i = [], 0
    while i < len(blob):
        value = 0
        for k in range(9):
            byte = blob[i]
            i += 1
            if k == 8:
                value = (value << 8) | byte
                break
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                break
        out.append(value)
    return out


def search(
    catalog: Catalog, terms: list[str], limit: int, scope: Scope, stats: TermStats | None = None
) -> list[tuple[int, float]]:
    """(chunk number, BM25 score) of the best chunks for the terms among those the scope may read; very
    common terms do not nominate. The corpus column weighs nothing in the score."""
    stats = stats or term_stats(catalog, terms)
    held = [t for t in terms if stats.docs.get(t, 0)]
    rare = [t for t in held if stats.docs[t] <= COMMON_SHARE * stats.rows]
    match = _match(rare or held)
    if not match:
        return []
    hidden, params = "", [f"{match} AND {scope.keyword_filter()}"]
    if scope.hidden:
        hidden = f" AND rowid NOT IN (SELECT seq FROM chunks WHERE article_id IN ({','.join('?' * len(scope.hidden))}))"
        params += sorted(scope.hidden)
    try:
        rows = (
            catalog.reader()
            .execute(
                f"SELECT rowid, -bm25(chunk_terms, 1.0, 0.0) FROM chunk_terms WHERE chunk_terms MATCH ?{hidden}"
                " ORDER BY bm25(chunk_terms, 1.0, 0.0) LIMIT ?",
                (*params, limit),
            )
            .fetchall()
        )
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return [(int(r), float(s)) for r, s in rows]


def scores(catalog: Catalog, terms: list[str], seqs: Sequence[int], stats: TermStats | None = None) -> dict[int, float]:
    """BM25 score of each of the given chunks for all the terms (chunks that match none are left out), computed
    from the chunks' stored terms: a MATCH limited to some rows reads every matching row's postings again for each
    of them, which grows with the corpus."""
    if not seqs or not any(terms):
        return {}
    stats = stats or term_stats(catalog, terms)
    idf = stats.idf()
    out: dict[int, float] = {}
    try:
        db = catalog.reader()
        for start in range(0, len(seqs), 900):
            part = list(seqs[start : start + 900])
            marks = ",".join("?" * len(part))
            for rowid, text in db.execute(f"SELECT rowid, terms FROM chunk_terms WHERE rowid IN ({marks})", part):
                words = text.split()
                counts = Counter(w for w in words if w in idf)
                if counts:
                    norm = BM25_K1 * (1 - BM25_B + BM25_B * len(words) / stats.avg_length)
                    out[int(rowid)] = sum(idf[t] * tf * (BM25_K1 + 1) / (tf + norm) for t, tf in counts.items())
    except sqlite3.Error as exc:
        raise store_error("search the keyword index", exc) from exc
    return out
