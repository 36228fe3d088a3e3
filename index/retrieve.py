"""Dense + keyword (BM25) retrieval fused, weighted by the question's as-of date, near-duplicates removed."""

from __future__ import annotations

import logging
import re
import shutil
import threading
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from llama_index.core.base.embeddings.base import BaseEmbedding
from llama_index.core.schema import TextNode

from .catalog import Catalog
from .dates import TimeWindow, question_window
from .results import Passage
from .store import VectorStore

log = logging.getLogger(__name__)

RRF_K = 60            # reciprocal-rank-fusion constant (Cormack et al.)
CANDIDATES = 50       # how many each retriever contributes before fusion
FUTURE_WEIGHT = 0.25  # an article published after the as-of date cannot be what the question is about
UNDATED_WEIGHT = 0.75
FLOOR_WEIGHT = 0.4    # the least weight an old article keeps, so that old news stays findable
DECAY_DAYS = 45       # days outside the preferred window at which the weight has fallen halfway
DUPLICATE_JACCARD = 0.8


@dataclass(frozen=True)
class Retrieval:
    """Fused, date-weighted passages and what retrieval saw of the question."""

    passages: list[Passage]
    window: TimeWindow
    best_dense: float


class KeywordIndex:
    """LlamaIndex's BM25 retriever over every stored chunk, rebuilt when the articles change."""

    def __init__(self, catalog: Catalog, persist_dir: Path) -> None:
        self._catalog = catalog
        self._dir = persist_dir
        self._lock = threading.Lock()
        self._retriever = None
        self._version = -1

    def invalidate(self) -> None:
        """Forget the in-memory index (the articles changed)."""
        self._version = -1

    def search(self, query: str, top_k: int) -> list[tuple[str, float]]:
        """(chunk id, BM25 score) of the best-matching chunks."""
        retriever = self._current()
        if retriever is None:
            return []
        retriever.similarity_top_k = min(top_k, self._size)
        return [(n.node.node_id, float(n.score or 0.0)) for n in retriever.retrieve(query)]

    def _current(self):
        version = self._catalog.version
        with self._lock:
            if self._version != version:
                self._retriever, self._size = self._load_or_build(version)
                self._version = version
            return self._retriever

    def _load_or_build(self, version: int):
        from llama_index.retrievers.bm25 import BM25Retriever

        stamp = self._dir / "version"
        if stamp.exists() and stamp.read_text() == str(version):
            try:
                retriever = BM25Retriever.from_persist_dir(str(self._dir))
                return retriever, len(retriever.corpus)
            except Exception:  # a damaged copy is rebuilt below
                log.warning("BM25 index in %s unreadable; rebuilding", self._dir)
        rows = self._catalog.chunks()
        if not rows:
            return None, 0
        titles = {a.id: a.title for a in self._catalog.infos()}
        nodes = [TextNode(id_=r.id, text=r.text, metadata={"title": titles.get(r.article_id, "")}) for r in rows]
        retriever = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=min(CANDIDATES, len(nodes)))
        tmp = self._dir.with_name(self._dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        retriever.persist(str(tmp))
        (tmp / "version").write_text(str(version))
        shutil.rmtree(self._dir, ignore_errors=True)
        tmp.rename(self._dir)
        return retriever, len(nodes)


class HybridRetriever:
    """Fuses dense and BM25 rankings, weights them by publication date, removes near-duplicates."""

    def __init__(self, catalog: Catalog, vectors: VectorStore, keywords: KeywordIndex,
                 embed_model: BaseEmbedding) -> None:
        self._catalog = catalog
        self.vectors = vectors
        self._keywords = keywords
        self._embed = embed_model

    def retrieve(self, query: str, *, as_of: date, top_k: int, date_query: str | None = None) -> Retrieval:
        """The top_k passages for a query as of a date (date cues read from date_query, default the query)."""
        window = question_window(date_query or query, as_of)
        dense = self.vectors.query(self._embed.get_query_embedding(query), CANDIDATES)
        keyword = self._keywords.search(query, CANDIDATES)
        fused: dict[str, float] = {}
        for ranking in (dense, keyword):
            for rank, (chunk_id, _) in enumerate(ranking):
                fused[chunk_id] = fused.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank + 1)
        passages = self._passages(fused)
        weighted = [(p, fused[p.chunk_id] * date_weight(p.published, window, as_of)) for p in passages]
        weighted.sort(key=lambda pair: pair[1], reverse=True)
        kept = _without_duplicates([p for p, _ in weighted])
        scores = dict((p.chunk_id, s) for p, s in weighted)
        result = [_with_score(p, scores[p.chunk_id]) for p in kept[:top_k]]
        best_dense = max((s for _, s in dense), default=0.0)
        return Retrieval(passages=result, window=window, best_dense=best_dense)

    def _passages(self, fused: dict[str, float]) -> list[Passage]:
        rows = self._catalog.chunk_rows(list(fused))
        infos = {i.id: i for i in self._catalog.infos_for({r.article_id for r in rows})}
        out = []
        for row in rows:  # chunks missing from the catalog (orphans of a failed write) are skipped
            info = infos.get(row.article_id)
            if info is not None:
                out.append(Passage(chunk_id=row.id, article_id=row.article_id, text=row.text, title=info.title,
                                   outlet=info.outlet, published=info.published, url=info.url))
        return out


def date_weight(published: date | None, window: TimeWindow, as_of: date) -> float:
    """How much a passage's publication date fits the question's time window (0..1]."""
    if published is None:
        return UNDATED_WEIGHT
    if published > window.end and published > as_of:
        return FUTURE_WEIGHT
    outside = window.distance(published)
    decay = DECAY_DAYS / (DECAY_DAYS + outside)
    if window.explicit:
        decay = decay ** 2
    return FLOOR_WEIGHT + (1 - FLOOR_WEIGHT) * decay


_WORD = re.compile(r"\w+")


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _WORD.findall(text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def _without_duplicates(passages: list[Passage]) -> list[Passage]:
    kept: list[tuple[Passage, set]] = []
    for passage in passages:
        shingles = _shingles(passage.text)
        if any(len(shingles & s) / max(1, len(shingles | s)) >= DUPLICATE_JACCARD for _, s in kept):
            continue
        kept.append((passage, shingles))
    return [p for p, _ in kept]


def _with_score(passage: Passage, score: float) -> Passage:
    return replace(passage, score=score)
