"""Stories: each added article joins the story of the articles that report the same event, incrementally.

Two decisions per article, each from a bounded set of candidates, so the cost of an add does not grow with the
corpus:
- copy: near-verbatim copies (syndicated, re-posted, one page under two URLs, one cut short) are found by
  MinHash over 5-word body shingles, candidates from LSH band keys kept in SQLite: nearly all of the smaller
  body is in the other (estimated containment >= COPY_CONTAINMENT), and the headline and lead read alike (story
  vectors' cosine >= COPY_COSINE; bodies that are only a site's registration form are identical, but are not
  one article).
- same story: the nearest articles within WINDOW_DAYS of its date (a `neighbours` query, which the engine can
  answer from Chroma or from `StoryIndex.window_neighbours`) are scored by a small logistic model over the
  embedding cosine, the overlap of the leads' names, the headlines' shared words, the distance in days and
  whether the outlet is the same. The article joins the story of its best candidate when the score reaches
  JOIN_PROBABILITY, else starts a story of its own. The weights were fitted on half of the labelled sample
  bench/data/stories.jsonl and measured on the other half (bench/stories.py; bench/data/STORIES.md).
The vector is the embedding of the article's title and lead (`story_text`), which measured better than the
mean of its chunk vectors (bench/data/STORIES.md).
"""

from __future__ import annotations

import json
import math
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from . import story_signals as sig

# The tables the engine persists; the lead turns them into a numbered migration. Days are date ordinals.
SCHEMA = """
CREATE TABLE IF NOT EXISTS story_articles (
    article_id  TEXT PRIMARY KEY,
    story_id    TEXT NOT NULL,
    copy_of     TEXT,               -- the article this one is a near-verbatim copy of (its original), or NULL
    day         INTEGER NOT NULL,   -- publication date (or the day it was added when it has none), ordinal
    outlet      TEXT,
    title_words TEXT NOT NULL,      -- JSON list of the headline's stemmed content words
    names       TEXT NOT NULL,      -- JSON list of the lead's capitalised names, stemmed
    signature   BLOB NOT NULL,      -- MinHash signature of the body, NUM_PERM little-endian uint64
    shingles    INTEGER NOT NULL,   -- number of distinct shingles in the body (for the containment estimate)
    paragraphs  TEXT NOT NULL,      -- JSON list of the body's distinct paragraph keys (to undo story_paragraphs)
    vector      BLOB NOT NULL       -- float32 story vector (copy check; window_neighbours)
);
CREATE INDEX IF NOT EXISTS story_articles_story ON story_articles (story_id);
CREATE INDEX IF NOT EXISTS story_articles_day ON story_articles (day);
CREATE INDEX IF NOT EXISTS story_articles_copy ON story_articles (copy_of);
CREATE TABLE IF NOT EXISTS story_bands (
    band       INTEGER NOT NULL,
    key        INTEGER NOT NULL,    -- 64-bit hash of the signature's rows in this band
    article_id TEXT NOT NULL REFERENCES story_articles (article_id) ON DELETE CASCADE,
    PRIMARY KEY (band, key, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS story_bands_article ON story_bands (article_id);
CREATE TABLE IF NOT EXISTS story_paragraphs (
    key      INTEGER PRIMARY KEY,   -- paragraph_key of a paragraph
    articles INTEGER NOT NULL       -- how many stored articles contain it; BOILERPLATE_ARTICLES or more: boilerplate
);
"""

WINDOW_DAYS = 7  # same-story candidates are published at most this many days before or after
NEIGHBOURS = 20  # nearest articles in the window that are scored
COPY_CONTAINMENT = 0.8  # share of the smaller body's shingles in the other's from which it is a copy...
COPY_COSINE = 0.75  # ...when their story vectors (headline and lead) also agree this much
JOIN_PROBABILITY = 0.5  # the same-story score from which an article joins its best candidate's story
FEATURES = ("cosine", "names", "title", "days", "same_outlet")
WEIGHTS = (10.0, 4.0, 4.0, -0.3, 0.0)  # fitted by bench/stories.py --fit on half A of the sample
BIAS = -10.0
STORY_TEXT_CHARS = 600  # of the lead, after the headline, in the text whose embedding is the story vector
BOILERPLATE_ARTICLES = 3  # a paragraph already in this many stored articles is boilerplate (newsletter promos...)

Neighbours = Callable[[np.ndarray, date, date, int], Sequence[tuple[str, float]]]
"""neighbours(vector, since, until, limit) -> up to `limit` (article_id, cosine) of stored articles published
in [since, until], most similar first."""


@dataclass(frozen=True)
class StoryInput:
    """What the assigner needs of an article."""

    article_id: str
    title: str
    body: str
    day: date  # publication date, or the day it was added when it has none
    outlet: str | None
    vector: np.ndarray  # L2-normalised embedding of StoryIndex.story_text(title, body)


@dataclass(frozen=True)
class Assignment:
    """Where an article went: its story, and the article it copies when it is a copy."""

    article_id: str
    story_id: str
    copy_of: str | None
    new_story: bool
    matched: str | None  # the stored article that decided the story (None for a new story)
    probability: float  # the same-story score of that article (1.0 for a copy)


@dataclass(frozen=True)
class _Stored:
    article_id: str
    story_id: str
    copy_of: str | None
    day: int
    outlet: str | None
    title_words: frozenset[str]
    names: frozenset[str]
    signature: np.ndarray
    shingles: int
    vector: np.ndarray


@dataclass(frozen=True)
class _Signals:
    title_words: frozenset[str]
    names: frozenset[str]
    signature: np.ndarray
    shingles: int


def signals_of(item: StoryInput, lead: str) -> _Signals:
    """The article's own signals: from its text, and its lead (the body without boilerplate paragraphs)."""
    return _Signals(sig.title_words(item.title), sig.lead_names(item.title, lead, item.outlet),
                    sig.minhash_signature(item.body), len(sig.shingles(item.body)))


def pair_features(item: StoryInput, own: _Signals, other: _Stored, cosine: float) -> np.ndarray:
    """The same-story features of a new article and a stored one, in FEATURES order."""
    same_outlet = float(bool(item.outlet) and item.outlet == other.outlet)
    days = abs(item.day.toordinal() - other.day)
    return np.array([cosine, sig.overlap(own.names, other.names), sig.jaccard(own.title_words, other.title_words),
                     float(days), same_outlet])


def same_story_probability(features: np.ndarray, weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> float:
    """The logistic model's probability that two articles report the same story."""
    z = float(np.dot(features, np.asarray(weights))) + bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class StoryIndex:
    """Story state in SQLite (the SCHEMA tables) and the incremental assigner over it."""

    def __init__(self, conn: sqlite3.Connection, neighbours: Neighbours | None = None, *,
                 weights: Sequence[float] = WEIGHTS, bias: float = BIAS,
                 join_probability: float = JOIN_PROBABILITY, copy_containment: float = COPY_CONTAINMENT,
                 window_days: int = WINDOW_DAYS) -> None:
        self._conn = conn
        self._conn.executescript(SCHEMA)
        self._neighbours = neighbours or self.window_neighbours
        self.weights, self.bias = tuple(weights), bias
        self.join_probability, self.copy_containment, self.window_days = join_probability, copy_containment, window_days

    # --- the calls the engine makes ----------------------------------------------------------------------

    def story_text(self, title: str, body: str) -> str:
        """The text whose embedding is the article's story vector: its headline and lead. Embed it just before
        `add`: the lead depends on the articles stored so far."""
        return sig.headline(title) + "\n" + self.lead(body)[:STORY_TEXT_CHARS]

    def lead(self, body: str) -> str:
        """The body without boilerplate: paragraphs that BOILERPLATE_ARTICLES stored articles already contain."""
        paragraphs = sig.paragraphs(body)
        keys = [sig.paragraph_key(p) for p in paragraphs]
        counts = self._paragraph_counts(set(keys))
        return "\n".join(p for p, k in zip(paragraphs, keys) if counts.get(k, 0) < BOILERPLATE_ARTICLES)

    def add(self, item: StoryInput) -> Assignment:
        """Assign an article to a story and store it (replacing a stored version with the same id)."""
        self.remove(item.article_id)
        own = signals_of(item, self.lead(item.body))
        assignment = self._assign(item, own)
        self._store(item, own, assignment)
        return assignment

    def remove(self, article_id: str) -> None:
        """Forget an article; its copies then copy the earliest of them instead, and keep their story."""
        copies = self._conn.execute("SELECT article_id FROM story_articles WHERE copy_of = ? ORDER BY day, article_id",
                                    (article_id,)).fetchall()
        if copies:
            first = copies[0][0]
            self._conn.execute("UPDATE story_articles SET copy_of = NULL WHERE article_id = ?", (first,))
            self._conn.execute("UPDATE story_articles SET copy_of = ? WHERE copy_of = ?", (first, article_id))
        row = self._conn.execute("SELECT paragraphs FROM story_articles WHERE article_id = ?", (article_id,)).fetchone()
        if row:
            self._conn.executemany("UPDATE story_paragraphs SET articles = articles - 1 WHERE key = ?",
                                   [(k,) for k in json.loads(row[0])])
            self._conn.execute("DELETE FROM story_paragraphs WHERE articles <= 0")
        self._conn.execute("DELETE FROM story_bands WHERE article_id = ?", (article_id,))
        self._conn.execute("DELETE FROM story_articles WHERE article_id = ?", (article_id,))

    def story_of(self, article_id: str) -> str | None:
        """The story an article belongs to."""
        row = self._conn.execute("SELECT story_id FROM story_articles WHERE article_id = ?", (article_id,)).fetchone()
        return row[0] if row else None

    def members(self, story_id: str) -> list[tuple[str, str | None]]:
        """(article_id, copy_of) of a story's articles, oldest first."""
        rows = self._conn.execute("SELECT article_id, copy_of FROM story_articles WHERE story_id = ? "
                                  "ORDER BY day, article_id", (story_id,))
        return [(a, c) for a, c in rows]

    def window_neighbours(self, vector: np.ndarray, since: date, until: date, limit: int) -> list[tuple[str, float]]:
        """The default neighbours query: stored story vectors published in [since, until], by cosine."""
        rows = self._conn.execute("SELECT article_id, vector FROM story_articles WHERE day BETWEEN ? AND ? "
                                  "AND vector IS NOT NULL", (since.toordinal(), until.toordinal())).fetchall()
        if not rows:
            return []
        sims = np.frombuffer(b"".join(v for _, v in rows), dtype=np.float32).reshape(len(rows), -1) @ vector
        top = np.argsort(-sims)[:limit]
        return [(rows[i][0], float(sims[i])) for i in top]

    # --- the decisions ------------------------------------------------------------------------------------

    def _assign(self, item: StoryInput, own: _Signals) -> Assignment:
        original = self._copy_of(item, own)
        if original is not None:
            return Assignment(item.article_id, original.story_id, original.copy_of or original.article_id,
                              False, original.article_id, 1.0)
        best: tuple[float, _Stored] | None = None
        for other, cosine in self.candidates(item):
            p = same_story_probability(pair_features(item, own, other, cosine), self.weights, self.bias)
            if best is None or p > best[0]:
                best = (p, other)
        if best is not None and best[0] >= self.join_probability:
            return Assignment(item.article_id, best[1].story_id, None, False, best[1].article_id, best[0])
        return Assignment(item.article_id, "s" + item.article_id, None, True, None, best[0] if best else 0.0)

    def candidates(self, item: StoryInput) -> list[tuple[_Stored, float]]:
        """Stored articles near the new one in the date window, with their cosine (bounded by NEIGHBOURS)."""
        window = timedelta(days=self.window_days)
        found = [(a, s) for a, s in self._neighbours(item.vector, item.day - window, item.day + window, NEIGHBOURS)
                 if a != item.article_id][:NEIGHBOURS]
        stored = self._stored([a for a, _ in found])
        return [(stored[a], s) for a, s in found if a in stored]

    def _copy_of(self, item: StoryInput, own: _Signals) -> _Stored | None:
        """The stored article this one copies (the most similar, originals first), if any."""
        keys = sig.band_keys(own.signature)
        where = " OR ".join("(band = ? AND key = ?)" for _ in keys)
        params = [v for pair in enumerate(keys) for v in pair]
        ids = [r[0] for r in self._conn.execute(f"SELECT DISTINCT article_id FROM story_bands WHERE {where}", params)]
        best: tuple[tuple[float, bool], _Stored] | None = None
        for other in self._stored([i for i in ids if i != item.article_id]).values():
            contained = sig.estimated_containment(own.signature, other.signature, own.shingles, other.shingles)
            alike = float(np.dot(item.vector, other.vector)) >= COPY_COSINE
            if contained >= self.copy_containment and alike:
                rank = (contained, other.copy_of is None)
                if best is None or rank > best[0]:
                    best = (rank, other)
        return best[1] if best else None

    # --- storage ------------------------------------------------------------------------------------------

    def _stored(self, ids: Iterable[str]) -> dict[str, _Stored]:
        ids = list(ids)
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self._conn.execute("SELECT article_id, story_id, copy_of, day, outlet, title_words, names, signature, "
                                  f"shingles, vector FROM story_articles WHERE article_id IN ({marks})", ids)
        return {r[0]: _Stored(r[0], r[1], r[2], r[3], r[4], frozenset(json.loads(r[5])), frozenset(json.loads(r[6])),
                              np.frombuffer(r[7], dtype="<u8"), r[8], np.frombuffer(r[9], dtype=np.float32))
                for r in rows}

    def _paragraph_counts(self, keys: set[int]) -> dict[int, int]:
        if not keys:
            return {}
        marks = ",".join("?" * len(keys))
        rows = self._conn.execute(f"SELECT key, articles FROM story_paragraphs WHERE key IN ({marks})", list(keys))
        return {k: n for k, n in rows}

    def _store(self, item: StoryInput, own: _Signals, assignment: Assignment) -> None:
        vector = np.asarray(item.vector, dtype=np.float32)
        keys = sorted({sig.paragraph_key(p) for p in sig.paragraphs(item.body)})
        self._conn.execute(
            "INSERT INTO story_articles (article_id, story_id, copy_of, day, outlet, title_words, names, signature, "
            "shingles, paragraphs, vector) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (item.article_id, assignment.story_id, assignment.copy_of, item.day.toordinal(), item.outlet,
             json.dumps(sorted(own.title_words)), json.dumps(sorted(own.names)),
             own.signature.astype("<u8").tobytes(), own.shingles, json.dumps(keys), vector.tobytes()))
        self._conn.executemany("INSERT INTO story_paragraphs (key, articles) VALUES (?, 1) "
                               "ON CONFLICT (key) DO UPDATE SET articles = articles + 1", [(k,) for k in keys])
        self._conn.executemany("INSERT OR IGNORE INTO story_bands (band, key, article_id) VALUES (?, ?, ?)",
                               [(b, k, item.article_id) for b, k in enumerate(sig.band_keys(own.signature))])
