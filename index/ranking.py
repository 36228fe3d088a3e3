"""The stages of ranking, as small functions on plain data: evidence per article, rank fusion, the
publication-date prior, passage choice and near-duplicate removal."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

from .dates import TimeWindow
from .results import Passage

RRF_K = 10  # rank-fusion constant; small, so that the first ranks count (articles, not chunks)
W_DENSE, W_KEYWORD, W_TITLE = 1.0, 1.0, 0.5  # weights of the three article rankings
EVIDENCE_CHUNKS = 3  # an article's evidence: the mean of its best this-many chunk scores
CHUNK_KEYWORD_SHARE = 0.5  # a chunk's standing within its article: cosine + this share of its BM25/best
CHUNKS_PER_ARTICLE = 2  # passages an article contributes at most
FUTURE_WEIGHT = 0.02  # published after the as-of date: cannot be what the question is about
UNDATED_WEIGHT = 0.5
RECENT_DAYS = 3  # the prior is flat over the last days before the as-of date (or in the named window)
HALF_LIFE_DAYS = 10  # ...then halves every this many days
FLOOR_WEIGHT = 0.1  # the least weight an old article keeps, so that old news stays findable
RECENCY_SHARE = 0.3  # share of the prior that favours the latest reports, even inside the window...
RECENCY_DAYS = 14  # ...fading with age at this scale (days before the window's end)
DUPLICATE_JACCARD = 0.8


@dataclass(frozen=True)
class ChunkEvidence:
    """One chunk of a candidate article: how it matches the question by meaning and by words."""

    chunk_id: str
    article_id: str
    cosine: float
    keyword: float  # BM25 over the best BM25 score of the question (0..1)

    @property
    def standing(self) -> float:
        """The chunk's rank within its article, to choose the article's passages."""
        return self.cosine + CHUNK_KEYWORD_SHARE * self.keyword


def article_evidence(chunk_scores: Sequence[float], depth: int = EVIDENCE_CHUNKS) -> float:
    """How much of an article speaks to the question: the mean of its `depth` best chunk scores (fewer when
    it has fewer). One matching paragraph in a roundup counts for less than an article about the matter."""
    if len(chunk_scores) == 0:
        return 0.0
    best = np.sort(np.asarray(chunk_scores, dtype=np.float64))[::-1][:depth]
    return float(best.mean())


def rank_weights(values: dict[str, float]) -> dict[str, float]:
    """1 / (RRF_K + rank) by descending value."""
    order = sorted(values, key=lambda k: -values[k])
    return {key: 1.0 / (RRF_K + rank) for rank, key in enumerate(order, 1)}


def fuse(chunks: Sequence[ChunkEvidence], titles: dict[str, float]) -> dict[str, float]:
    """Each candidate article's fused score: reciprocal-rank fusion of its dense, keyword and title
    evidence (every article in `titles` is a candidate; chunks name the rest)."""
    by_article: dict[str, list[ChunkEvidence]] = {a: [] for a in titles}
    for c in chunks:
        by_article.setdefault(c.article_id, []).append(c)
    dense = rank_weights({a: article_evidence([c.cosine for c in cs]) for a, cs in by_article.items()})
    keyword = rank_weights({a: article_evidence([c.keyword for c in cs]) for a, cs in by_article.items()})
    title = rank_weights({a: titles.get(a, 0.0) for a in by_article})
    return {a: W_DENSE * dense[a] + W_KEYWORD * keyword[a] + W_TITLE * title[a] for a in by_article}


def date_weight(published: date | None, window: TimeWindow, as_of: date) -> float:
    """How likely a question as of `as_of` (about `window`) is about an article published then (0..1].

    Published after the as-of date (and the window): nearly impossible. Inside the window, or in the
    RECENT_DAYS before its end: 1. Older: halves every HALF_LIFE_DAYS, never below FLOOR_WEIGHT.
    Times a gentle recency slope: of several reports on a running story, the latest is likelier to be
    the one a question is about (1 at the window's end, down to 1 - RECENCY_SHARE).
    """
    if published is None:
        return UNDATED_WEIGHT
    if published > as_of:
        return FUTURE_WEIGHT
    if window.explicit:
        outside = window.distance(published)
    else:
        outside = max(0, (as_of - published).days - RECENT_DAYS)
    prior = FLOOR_WEIGHT + (1 - FLOOR_WEIGHT) * math.pow(0.5, outside / HALF_LIFE_DAYS)
    anchor = as_of if window.yearless else min(window.end, as_of)
    age = max(0, (anchor - published).days)
    return prior * (1 - RECENCY_SHARE + RECENCY_SHARE * math.exp(-age / RECENCY_DAYS))


def choose_chunks(
    ranked: Sequence[str], chunks: Sequence[ChunkEvidence], limit: int, per_article: int = CHUNKS_PER_ARTICLE
) -> list[ChunkEvidence]:
    """The best `per_article` chunks of each article in rank order, until `limit` chunks are chosen."""
    by_article: dict[str, list[ChunkEvidence]] = {}
    for c in chunks:
        by_article.setdefault(c.article_id, []).append(c)
    chosen: list[ChunkEvidence] = []
    for article_id in ranked:
        best = sorted(by_article.get(article_id, []), key=lambda c: -c.standing)[:per_article]
        chosen += best
        if len(chosen) >= limit:
            break
    return chosen


_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def without_duplicates(passages: Sequence[Passage], limit: int | None = None) -> list[Passage]:
    """Passages in order, leaving out any whose word trigrams mostly repeat an earlier one's (overlapping
    chunks, an article copied by another outlet), up to `limit`."""
    kept: list[tuple[Passage, set]] = []
    for passage in passages:
        shingles = _shingles(passage.text)
        if any(len(shingles & s) / max(1, len(shingles | s)) >= DUPLICATE_JACCARD for _, s in kept):
            continue
        kept.append((passage, shingles))
        if limit is not None and len(kept) >= limit:
            break
    return [p for p, _ in kept]
