"""Stories: each added article joins the story of the articles that report the same event, incrementally.

Two decisions per article, each from a bounded set of candidates, so the cost of an add does not grow with the
corpus:
- copy: near-verbatim copies (syndicated, re-posted, one page under two URLs, one cut short) are found by
  MinHash over 5-word body shingles, candidates from LSH band keys kept in SQLite: nearly all of the smaller
  body is in the other (estimated containment >= COPY_CONTAINMENT), and the headline and lead read alike (story
  vectors' cosine >= COPY_COSINE; bodies that are only a site's registration form are identical, but are not
  one article). A copy joins its original's story.
- same story: the nearest articles within WINDOW_DAYS of its date (a `neighbours` query, which the engine can
  answer from Chroma or from `StoryIndex.window_neighbours`) name the candidate stories. A small logistic model
  scores the new article against each original (non-copy) member of a candidate story in the window, over the
  story vectors' cosine, the leads' shared names and the headlines' shared words (both weighted by inverse
  document frequency, so that "Ukraine" or "5 things to know" count for little), the distance in days and
  whether the outlet is the same. The article joins the story whose members score highest on average, when that
  reaches JOIN_PROBABILITY, else starts a story of its own: the average, not the best member, keeps one
  borderline link from chaining two stories into one. The weights were fitted on half A of the labelled sample
  bench/data/stories.jsonl and are measured on half B (bench/studies/stories.py; bench/data/STORIES.md).
The story vector embeds the headline and the lead, the body without boilerplate paragraphs (`story_text`).
Figures, ablations and how the engine calls it: docs/stories.md.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from . import story_signals as sig
from .dates import plus_days
from .story_store import SCHEMA, StoredArticle, StoryStore, terms_of

__all__ = ["SCHEMA", "Assignment", "Neighbours", "StoryIndex", "StoryInput"]

WINDOW_DAYS = 7  # same-story candidates are published at most this many days before or after
NEIGHBOURS = 20  # nearest articles in the window that name the candidate stories
MEMBERS = 20  # a candidate story's originals in the window that are scored (the nearest in date)
COPY_CONTAINMENT = 0.8  # share of the smaller body's shingles in the other's from which it is a copy...
COPY_COSINE = 0.75  # ...when their story vectors (headline and lead) also agree this much
JOIN_PROBABILITY = 0.5  # the average same-story score of a story's members from which an article joins it
FEATURES = ("cosine", "names", "title", "days", "same_outlet")
# Fitted on half A of the sample inside the whole corpus: `python -m bench.studies.stories --fit --corpus`.
WEIGHTS = (8.42, 9.49, 8.74, -0.002, -0.82)
BIAS = -5.64
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
    probability: float  # the story's average same-story score (1.0 for a copy)


@dataclass(frozen=True)
class Signals:
    """An article's own signals, computed from its text alone (and the boilerplate counts, for the lead)."""

    title_words: frozenset[str]
    names: frozenset[str]
    signature: np.ndarray
    shingles: int


def pair_features(
    item: StoryInput, own: Signals, other: StoredArticle, cosine: float, weight: Mapping[str, float]
) -> np.ndarray:
    """The same-story features of a new article and a stored one, in FEATURES order; `weight` maps story_terms
    keys to their inverse document frequency."""
    same_outlet = float(bool(item.outlet) and item.outlet == other.outlet)
    days = abs(item.day.toordinal() - other.day)
    names = sig.weighted_overlap(terms_of((), own.names), terms_of((), other.names), weight)
    title = sig.weighted_jaccard(terms_of(own.title_words, ()), terms_of(other.title_words, ()), weight)
    return np.array([cosine, names, title, float(days), same_outlet])


def story_score(probabilities: Sequence[float]) -> float:
    """How well an article fits a story, from its same-story probability with each of the story's members."""
    return sum(probabilities) / len(probabilities)


def same_story_probability(features: np.ndarray, weights: Sequence[float] = WEIGHTS, bias: float = BIAS) -> float:
    """The logistic model's probability that two articles report the same story."""
    z = float(np.dot(features, np.asarray(weights))) + bias
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


class StoryIndex:
    """The incremental story assigner over its SQLite tables (story_store.SCHEMA)."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        neighbours: Neighbours | None = None,
        *,
        create: bool = True,
        weights: Sequence[float] = WEIGHTS,
        bias: float = BIAS,
        join_probability: float = JOIN_PROBABILITY,
        copy_containment: float = COPY_CONTAINMENT,
        window_days: int = WINDOW_DAYS,
    ) -> None:
        self.store = StoryStore(conn, create=create)
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
        counts = self.store.paragraph_counts(set(keys))
        return "\n".join(p for p, k in zip(paragraphs, keys, strict=False) if counts.get(k, 0) < BOILERPLATE_ARTICLES)

    def add(self, item: StoryInput) -> Assignment:
        """Assign an article to a story and store it (replacing a stored version with the same id)."""
        self.store.delete(item.article_id)
        own = self.signals(item)
        assignment = self._assign(item, own)
        stored = StoredArticle(
            item.article_id,
            assignment.story_id,
            assignment.copy_of,
            item.day.toordinal(),
            item.outlet,
            own.title_words,
            own.names,
            own.signature,
            own.shingles,
            np.asarray(item.vector, dtype=np.float32),
        )
        paragraph_keys = sorted({sig.paragraph_key(p) for p in sig.paragraphs(item.body)})
        self.store.insert(stored, paragraph_keys, sig.band_keys(own.signature))
        return assignment

    def remove(self, article_id: str) -> None:
        """Forget an article; its copies then copy the earliest of them instead, and keep their story."""
        self.store.delete(article_id)

    def story_of(self, article_id: str) -> str | None:
        """The story an article belongs to."""
        return self.store.story_of(article_id)

    def members(self, story_id: str) -> list[tuple[str, str | None]]:
        """(article_id, copy_of) of a story's articles, oldest first."""
        return self.store.members(story_id)

    def window_neighbours(self, vector: np.ndarray, since: date, until: date, limit: int) -> list[tuple[str, float]]:
        """The default neighbours query: stored story vectors published in [since, until], by cosine."""
        ids, vectors = self.store.window_vectors(since.toordinal(), until.toordinal())
        if not ids:
            return []
        sims = vectors @ np.asarray(vector, dtype=np.float32)
        return [(ids[i], float(sims[i])) for i in np.argsort(-sims)[:limit]]

    # --- the decisions ------------------------------------------------------------------------------------

    def signals(self, item: StoryInput) -> Signals:
        """The article's own signals: from its text, and its lead (the body without boilerplate)."""
        return Signals(
            sig.title_words(item.title),
            sig.lead_names(item.title, self.lead(item.body), item.outlet),
            sig.minhash_signature(item.body),
            len(sig.shingles(item.body)),
        )

    def _assign(self, item: StoryInput, own: Signals) -> Assignment:
        original = self._copy_of(item, own)
        if original is not None:
            return Assignment(
                item.article_id,
                original.story_id,
                original.copy_of or original.article_id,
                False,
                original.article_id,
                1.0,
            )
        best: tuple[float, str, str] | None = None
        for story_id, scored in self.scored_stories(item, own).items():
            score = story_score([p for p, _ in scored])
            if best is None or score > best[0]:
                best = (score, story_id, max(scored)[1])
        if best is not None and best[0] >= self.join_probability:
            return Assignment(item.article_id, best[1], None, False, best[2], best[0])
        return Assignment(item.article_id, "s" + item.article_id, None, True, None, best[0] if best else 0.0)

    def candidates(self, item: StoryInput) -> list[tuple[StoredArticle, float]]:
        """Stored articles near the new one in the date window, with their cosine (bounded by NEIGHBOURS)."""
        since, until = plus_days(item.day, -self.window_days), plus_days(item.day, self.window_days)
        found = [(a, s) for a, s in self._neighbours(item.vector, since, until, NEIGHBOURS) if a != item.article_id][
            :NEIGHBOURS
        ]
        stored = self.store.articles(a for a, _ in found)
        return [(stored[a], s) for a, s in found if a in stored]

    def scored_stories(self, item: StoryInput, own: Signals) -> dict[str, list[tuple[float, str]]]:
        """For each candidate story: (same-story probability, article id) of its originals in the window."""
        return {
            story_id: [(same_story_probability(f, self.weights, self.bias), m.article_id) for m, f in pairs]
            for story_id, pairs in self.member_features(item, own).items()
        }

    def member_features(self, item: StoryInput, own: Signals) -> dict[str, list[tuple[StoredArticle, np.ndarray]]]:
        """For each candidate story (a story of a neighbour): its originals in the window (MEMBERS at most, the
        nearest in date) with their pair_features against the new article."""
        stories = {a.story_id for a, _ in self.candidates(item)}
        day = item.day.toordinal()
        members = self.store.originals_in_window(stories, day - self.window_days, day + self.window_days, MEMBERS)
        weight = self.term_weights(own, [m for ms in members.values() for m in ms])
        vector = np.asarray(item.vector, dtype=np.float32)
        return {
            story_id: [(m, pair_features(item, own, m, float(vector @ m.vector), weight)) for m in ms]
            for story_id, ms in members.items()
            if ms
        }

    def term_weights(self, own: Signals, others: Sequence[StoredArticle]) -> dict[str, float]:
        """Inverse document frequency of every headline word and name of the article and the others."""
        terms = terms_of(own.title_words, own.names).union(*(o.terms() for o in others))
        articles, counts = self.store.term_counts(terms)
        return {t: sig.idf(articles, counts.get(t, 0)) for t in terms}

    def _copy_of(self, item: StoryInput, own: Signals) -> StoredArticle | None:
        """The stored article this one copies (the most similar, originals first), if any."""
        ids = [i for i in self.store.sharing_a_band(sig.band_keys(own.signature)) if i != item.article_id]
        best: tuple[tuple[float, bool], StoredArticle] | None = None
        for other in self.store.articles(ids).values():
            contained = sig.estimated_containment(own.signature, other.signature, own.shingles, other.shingles)
            alike = float(np.dot(item.vector, other.vector)) >= COPY_COSINE
            if contained >= self.copy_containment and alike:
                rank = (contained, other.copy_of is None)
                if best is None or rank > best[0]:
                    best = (rank, other)
        return best[1] if best else None
