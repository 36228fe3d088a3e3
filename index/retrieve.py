"""Hybrid retrieval: dense and BM25 over chunks, weighed per article, with a publication-date prior.

1. Candidates: the articles of the nearest chunks by embedding (Chroma), of the best BM25 chunks
   (bm25s over title + chunk text, English stemming) and of the nearest titles by embedding.
2. Evidence per article, from all of its chunks: the mean cosine similarity of its best few chunks, and
   the mean BM25 score (over the question's best) of its best few. A roundup that mentions the matter in
   one paragraph weighs less than an article about it. A headline says what an article is about: its
   cosine similarity is a third ranking (and the only one where a page's body is boilerplate). The
   article rankings are fused by rank (RRF).
3. Date prior: an article published after the as-of date cannot be what a question is about; news
   questions are mostly about the days just before it; a date named in the question moves the window.
   Within it, the latest of several reports on a running story is a little likelier. Named periods
   ("this week") shape the window and are left out of the text that is matched.
4. Passages: the best chunks of the best articles, in article order, near-duplicates removed.
"""

from __future__ import annotations

import json
import logging
import math
import re
import shutil
import threading
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .catalog import Catalog
from .dates import TimeWindow, question_window, without_time_words
from .results import Passage

if TYPE_CHECKING:
    from .embedcache import EmbeddingCache
    from .embedding import Embedder
    from .store import VectorStore

log = logging.getLogger(__name__)

DENSE_CANDIDATES = 100    # nearest chunks asked of the vector store
KEYWORD_CANDIDATES = 100  # best BM25 chunks
RRF_K = 10                # rank-fusion constant; small, so that the first ranks count (articles, not chunks)
TITLE_CANDIDATES = 50    # nearest titles
W_DENSE, W_KEYWORD, W_TITLE = 1.0, 1.0, 0.5  # weights of the three article rankings
EVIDENCE_CHUNKS = 3       # an article's evidence: the mean of its best this-many chunk scores
CHUNK_KEYWORD_SHARE = 0.5  # a chunk's standing within its article: cosine + this share of its BM25/best
CHUNKS_PER_ARTICLE = 2    # passages an article contributes at most
FUTURE_WEIGHT = 0.02      # published after the as-of date: cannot be what the question is about
UNDATED_WEIGHT = 0.5
RECENT_DAYS = 3           # the prior is flat over the last days before the as-of date (or in the named window)
HALF_LIFE_DAYS = 10       # ...then halves every this many days
FLOOR_WEIGHT = 0.1        # the least weight an old article keeps, so that old news stays findable
RECENCY_SHARE = 0.3       # share of the prior that favours the latest reports, even inside the window...
RECENCY_DAYS = 14         # ...fading with age at this scale (days before the window's end)
DUPLICATE_JACCARD = 0.8
BM25_FORMAT = "bm25s-4"   # bumped when the keyword index's text, tokenisation or files change


@dataclass(frozen=True)
class Retrieval:
    """Fused, date-weighted passages and what retrieval saw of the question."""

    passages: list[Passage]
    window: TimeWindow
    best_dense: float


# keywords -----------------------------------------------------------------------------------------
_STEMMER = None


def _stemmer():
    global _STEMMER
    if _STEMMER is None:
        import Stemmer

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


def _bm25s():
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets its own logger to DEBUG on import
    return bm25s


def _tokenize(texts: list[str], **kwargs):
    return _bm25s().tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False, **kwargs)


@dataclass
class _Keywords:
    bm25: Any
    ids: list[str]               # chunk ids, in index order
    articles: list[str]          # article id of each chunk
    vectors: np.ndarray          # embedding of each chunk (rows in index order; zeros when unknown)
    titled: list[str]            # article ids, in the order of title_vectors
    title_vectors: np.ndarray    # embedding of each article's title alone (zeros when it has none)
    by_article: dict[str, np.ndarray] = field(default_factory=dict)  # article id -> positions of its chunks
    position: dict[str, int] = field(default_factory=dict)           # chunk id -> position
    title_row: dict[str, int] = field(default_factory=dict)          # article id -> row of title_vectors

    def __post_init__(self) -> None:
        groups: dict[str, list[int]] = {}
        for position, article_id in enumerate(self.articles):
            groups.setdefault(article_id, []).append(position)
        self.by_article = {a: np.asarray(p) for a, p in groups.items()}
        self.position = {chunk_id: i for i, chunk_id in enumerate(self.ids)}
        self.title_row = {a: i for i, a in enumerate(self.titled)}


class KeywordIndex:
    """BM25 (bm25s, English stemming and stop words) over every stored chunk with its article's title,
    the chunks' vectors in the same order and the articles' title vectors (memory-mapped); persisted
    beside the catalog and rebuilt when the articles change."""

    def __init__(self, catalog: Catalog, cache: "EmbeddingCache", persist_dir: Path, embed_model: "Embedder",
                 model_key: str) -> None:
        self._catalog = catalog
        self._cache = cache
        self._dir = persist_dir
        self._embed = embed_model
        self._model_key = model_key
        self._lock = threading.Lock()
        self._index: _Keywords | None = None
        self._version = -1

    def invalidate(self) -> None:
        """Forget the in-memory index (the articles changed)."""
        self._version = -1

    def scores(self, query: str) -> tuple[np.ndarray, _Keywords] | None:
        """BM25 score of every chunk for a query, and the index they refer to (None when empty)."""
        index = self.current()
        if index is None:
            return None
        tokens = _tokenize([query], return_ids=False)[0]
        if not tokens:
            return np.zeros(len(index.ids), dtype=np.float32), index
        return np.asarray(index.bm25.get_scores(tokens), dtype=np.float32), index

    def current(self) -> _Keywords | None:
        """The index of the articles as they are now (loaded or rebuilt when they changed). While another
        thread rebuilds it, the previous index answers rather than waiting (seconds at 5,000 articles)."""
        version = self._catalog.version
        if self._version == version:
            return self._index
        if not self._lock.acquire(blocking=self._index is None):
            return self._index
        try:
            if self._version != version:
                self._index = self._load_or_build(version)
                self._version = version
            return self._index
        finally:
            self._lock.release()

    def refresh(self) -> None:
        """Bring the index up to date now, in the caller's thread (the engine calls it after every change)."""
        self.current()

    def _load_or_build(self, version: int) -> _Keywords | None:
        bm25s = _bm25s()
        stamp = self._dir / "version"
        wanted = f"{BM25_FORMAT}:{version}"
        if stamp.exists() and stamp.read_text() == wanted:
            try:
                bm25 = bm25s.BM25.load(str(self._dir), mmap=False, show_progress=False)
                meta = json.loads((self._dir / "ids.json").read_text())
                vectors = np.load(self._dir / "vectors.npy", mmap_mode="r")
                titles = np.load(self._dir / "titles.npy", mmap_mode="r")
                return _Keywords(bm25, meta["ids"], meta["articles"], vectors, meta["titled"], titles)
            except Exception:  # a damaged copy is rebuilt below
                log.warning("BM25 index in %s unreadable; rebuilding", self._dir)
        rows = self._catalog.chunks()
        if not rows:
            return None
        from .chunking import index_title

        titles = {a.id: index_title(a.title, a.url) for a in self._catalog.infos()}
        titled = list(dict.fromkeys(r.article_id for r in rows))
        title_vectors = self._title_vectors([titles.get(a, "") for a in titled])
        texts = [f"{titles.get(r.article_id, '')}\n\n{r.text}" for r in rows]
        bm25 = bm25s.BM25()
        bm25.index(_tokenize(texts), show_progress=False)
        ids, articles = [r.id for r in rows], [r.article_id for r in rows]
        keys = [r.embed_key for r in rows]
        vectors = _stacked(keys, self._cache.get(sorted(set(keys))))
        tmp = self._dir.with_name(self._dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        bm25.save(str(tmp), show_progress=False)
        np.save(tmp / "vectors.npy", vectors)
        np.save(tmp / "titles.npy", title_vectors)
        (tmp / "ids.json").write_text(json.dumps({"ids": ids, "articles": articles, "titled": titled}))
        (tmp / "version").write_text(wanted)
        shutil.rmtree(self._dir, ignore_errors=True)
        tmp.rename(self._dir)
        return _Keywords(bm25, ids, articles, vectors, titled, title_vectors)

    def _title_vectors(self, titles: list[str]) -> np.ndarray:
        # Cached when the articles were added; titles of articles stored before there was a title signal
        # are embedded here, once.
        from .chunking import embed_into_cache, title_key

        keys = [title_key(self._model_key, t) if t else "" for t in titles]
        cached = self._cache.get(sorted({k for k in keys if k}))
        missing = {k: t for k, t in zip(keys, titles) if k and k not in cached}
        cached.update(embed_into_cache(missing, self._embed, self._cache))
        return _stacked(keys, cached)


def _stacked(keys: list[str], cached: dict[str, np.ndarray]) -> np.ndarray:
    """The cached vector of each key as a matrix's rows (zeros where a key has none)."""
    width = len(next(iter(cached.values()))) if cached else 1
    out = np.zeros((len(keys), width), dtype=np.float32)
    for i, key in enumerate(keys):
        if key in cached:
            out[i] = cached[key]
    return out


def _top(scores: np.ndarray, k: int) -> np.ndarray:
    k = min(k, len(scores))
    if k <= 0:
        return np.zeros(0, dtype=int)
    top = np.argpartition(-scores, k - 1)[:k]
    return top[np.argsort(-scores[top], kind="stable")]


# fusion -------------------------------------------------------------------------------------------
def _rank_weights(values: dict[str, float]) -> dict[str, float]:
    """1 / (RRF_K + rank) by descending value."""
    order = sorted(values, key=lambda k: -values[k])
    return {key: 1.0 / (RRF_K + rank) for rank, key in enumerate(order, 1)}


def article_evidence(chunk_scores: np.ndarray, depth: int = EVIDENCE_CHUNKS) -> float:
    """How much of an article speaks to the question: the mean of its `depth` best chunk scores (fewer
    when it has fewer). One matching paragraph in a roundup of the day's news counts for less than an
    article about the matter throughout."""
    if len(chunk_scores) == 0:
        return 0.0
    best = np.sort(chunk_scores)[::-1][:depth]
    return float(best.mean())


class HybridRetriever:
    """Fuses dense and BM25 evidence per article, weights it by publication date, picks passages."""

    def __init__(self, catalog: Catalog, vectors: "VectorStore", keywords: KeywordIndex,
                 embed_model: "Embedder") -> None:
        self._catalog = catalog
        self.vectors = vectors
        self._keywords = keywords
        self._embed = embed_model

    def retrieve(self, query: str, *, as_of: date, top_k: int, date_query: str | None = None) -> Retrieval:
        """The top_k passages for a query as of a date (date cues read from date_query, default the query)."""
        window = question_window(date_query or query, as_of)
        query = without_time_words(query)
        qvec = np.asarray(self._embed.get_query_embedding(query), dtype=np.float32)
        dense = self.vectors.query(qvec.tolist(), DENSE_CANDIDATES)
        found = self._keywords.scores(query)
        if found is None:
            return Retrieval(passages=[], window=window, best_dense=max((s for _, s in dense), default=0.0))
        bm25, kw = found
        best_bm25 = float(bm25.max()) if len(bm25) else 0.0
        title_sims = np.asarray(kw.title_vectors @ qvec) if kw.title_vectors.shape[1] == len(qvec) \
            else np.zeros(len(kw.titled), dtype=np.float32)
        candidates = list(dict.fromkeys(
            [kw.articles[kw.position[c]] for c, _ in dense if c in kw.position]
            + [kw.articles[i] for i in _top(bm25, KEYWORD_CANDIDATES) if bm25[i] > 0]
            + [kw.titled[i] for i in _top(title_sims, TITLE_CANDIDATES) if title_sims[i] > 0]))
        if not candidates:
            return Retrieval(passages=[], window=window, best_dense=0.0)
        # every chunk of every candidate article, with its cosine similarity and BM25 score
        positions = np.concatenate([kw.by_article[a] for a in candidates])
        candidate_vectors = np.asarray(kw.vectors[positions], dtype=np.float32)
        sims_all = candidate_vectors @ qvec
        from_store = {kw.position[c]: sim for c, sim in dense if c in kw.position}
        for j in np.flatnonzero(~candidate_vectors.any(axis=1)):  # vectors missing from the cache
            sims_all[j] = from_store.get(int(positions[j]), 0.0)
        dates = self._catalog.published_dates(candidates)
        dense_evidence: dict[str, float] = {}
        keyword_evidence: dict[str, float] = {}
        chunk_rank: dict[int, float] = {}
        offset = 0
        for a in candidates:
            own = kw.by_article[a]
            sims = sims_all[offset : offset + len(own)]
            offset += len(own)
            kws = bm25[own] / (best_bm25 or 1.0)
            dense_evidence[a] = article_evidence(sims)
            keyword_evidence[a] = article_evidence(kws)
            for position, s, k in zip(own, sims, kws):  # a chunk's own standing, to pick an article's passages
                chunk_rank[int(position)] = float(s) + CHUNK_KEYWORD_SHARE * float(k)
        title_evidence = {a: float(title_sims[kw.title_row[a]]) for a in candidates}
        dense_w, keyword_w = _rank_weights(dense_evidence), _rank_weights(keyword_evidence)
        title_w = _rank_weights(title_evidence)
        score = {a: (W_DENSE * dense_w[a] + W_KEYWORD * keyword_w[a] + W_TITLE * title_w[a])
                 * date_weight(dates[a], window, as_of) for a in candidates if a in dates}
        ranked = sorted(score, key=lambda a: -score[a])
        chosen: list[tuple[str, str]] = []
        for a in ranked:
            best = sorted(kw.by_article[a].tolist(), key=lambda i: -chunk_rank[i])[:CHUNKS_PER_ARTICLE]
            chosen += [(a, kw.ids[i]) for i in best]
            if len(chosen) >= top_k * 2:
                break
        rows = {r.id: r for r in self._catalog.chunk_rows([c for _, c in chosen])}
        infos = {i.id: i for i in self._catalog.infos_for(list(dict.fromkeys(a for a, _ in chosen)))}
        passages = [Passage(chunk_id=c, article_id=a, text=rows[c].text, title=infos[a].title,
                            outlet=infos[a].outlet, published=infos[a].published, url=infos[a].url,
                            score=score[a], sentence_spans=rows[c].sentences)
                    for a, c in chosen if c in rows and a in infos]
        kept = _without_duplicates(passages, top_k)
        best_dense = max((s for _, s in dense), default=0.0)
        return Retrieval(passages=kept, window=window, best_dense=best_dense)


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


_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def _without_duplicates(passages: list[Passage], limit: int | None = None) -> list[Passage]:
    kept: list[tuple[Passage, set]] = []
    for passage in passages:
        shingles = _shingles(passage.text)
        if any(len(shingles & s) / max(1, len(shingles | s)) >= DUPLICATE_JACCARD for _, s in kept):
            continue
        kept.append((passage, shingles))
        if limit is not None and len(kept) >= limit:
            break
    return [p for p, _ in kept]
