"""Hybrid retrieval: dense, keyword and title evidence per article, fused and weighted by publication date.

1. Candidates: the articles of the nearest chunks (the vector store), of the best keyword chunks (FTS5,
   BM25) and of the nearest titles (the store's title collection), each store filtered to the corpora the
   question's scope may read (servers.Scope), and the catalog's reads of them filtered the same way.
2. Evidence per candidate, from all of its chunks: cosine similarity (vectors read from the embedding
   cache for the candidates only) and BM25 relative to the question's best; and its title's similarity.
3. Fusion by rank (ranking.fuse), times the date prior (ranking.date_weight): named periods ("this week")
   shape the window and are left out of the text that is matched.
4. Passages: the best chunks of the best articles, near-duplicates removed.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from . import keywords
from .catalog import Catalog
from .dates import TimeWindow, question_window, without_time_words
from .ingest import title_keys
from .ranking import ChunkEvidence, choose_chunks, date_weight, fuse, without_duplicates
from .results import Passage
from .servers import Scope

if TYPE_CHECKING:
    from .embedcache import EmbeddingCache
    from .embedding import Embedder
    from .view import StoreView

DENSE_CANDIDATES = 100  # nearest chunks asked of the vector store
KEYWORD_CANDIDATES = 100  # best BM25 chunks
TITLE_CANDIDATES = 50  # nearest titles
OUTLET_WIDENING = 4  # candidates asked for when only some outlets' articles count
DEMOTED_WEIGHT = 0.25  # an article a server's moderators demoted keeps this share of its score


@dataclass(frozen=True)
class Retrieval:
    """Fused, date-weighted passages and what retrieval saw of the question."""

    passages: list[Passage]
    window: TimeWindow
    best_dense: float


class HybridRetriever:
    """Finds candidates by every signal, weighs their evidence, weights by date, picks passages."""

    def __init__(
        self, catalog: Catalog, cache: EmbeddingCache, view: StoreView, embed_model: Embedder, model_key: str
    ) -> None:
        self._catalog = catalog
        self._cache = cache
        self._view = view
        self._embed = embed_model
        self._model_key = model_key

    def retrieve(
        self,
        query: str,
        *,
        as_of: date,
        top_k: int,
        scope: Scope,
        date_query: str | None = None,
        outlets: Collection[str] | None = None,
    ) -> Retrieval:
        """The top_k passages for a query as of a date, from the articles the scope may read (date cues read from
        date_query, default the query); with `outlets`, of those outlets' articles only (found among
        OUTLET_WIDENING times more candidates)."""
        window = question_window(date_query or query, as_of)
        query = without_time_words(query)
        qvec = np.asarray(self._embed.get_query_embedding(query), dtype=np.float32)
        store = self._view.live()
        widen = OUTLET_WIDENING if outlets is not None else 1
        where = scope.where()
        dense = store.query_chunks(qvec, DENSE_CANDIDATES * widen, where=where)
        titles = store.query_titles(qvec, TITLE_CANDIDATES * widen, where=where)
        terms = keywords.query_terms(query)
        stats = keywords.term_stats(self._catalog, terms)
        keyword_hits = keywords.search(self._catalog, terms, KEYWORD_CANDIDATES * widen, scope, stats)
        best_dense = max((s for _, s in dense), default=0.0)
        candidates = self._candidates(dense, keyword_hits, titles, scope)
        if outlets is not None:
            candidates = [i.id for i in self._catalog.infos_for(candidates) if i.outlet in set(outlets)]
        if not candidates:
            return Retrieval(passages=[], window=window, best_dense=best_dense)
        chunks = self._chunk_evidence(candidates, qvec, terms, dense, stats)
        title_sims = self._title_evidence(candidates, qvec, dict(titles))
        dates = self._catalog.published_dates(candidates)
        fused = fuse(chunks, {a: title_sims.get(a, 0.0) for a in candidates if a in dates})
        score = {
            a: s * date_weight(dates[a], window, as_of) * (DEMOTED_WEIGHT if a in scope.demoted else 1.0)
            for a, s in fused.items()
        }
        ranked = sorted(score, key=lambda a: -score[a])
        chosen = choose_chunks(ranked, chunks, top_k * 2)
        passages = self._passages(chosen, score)
        return Retrieval(passages=without_duplicates(passages, top_k), window=window, best_dense=best_dense)

    def article_passages(
        self, query: str, article_ids: Sequence[str], scope: Scope, per_article: int = 2
    ) -> list[Passage]:
        """The best passages of these articles that the scope may read, for a query (by the chunk evidence retrieval
        weighs), article by article in the order given; a passage's score is its article's best chunk standing."""
        visible = scope.visible(self._catalog.reader(), article_ids)
        article_ids = [a for a in article_ids if a in visible]
        if not article_ids:
            return []
        qvec = np.asarray(self._embed.get_query_embedding(without_time_words(query)), dtype=np.float32)
        chunks = self._chunk_evidence(list(article_ids), qvec, keywords.query_terms(query), [])
        ranked = {a: 0.0 for a in dict.fromkeys(article_ids)}
        for c in chunks:
            ranked[c.article_id] = max(ranked[c.article_id], c.standing)
        return self._passages(choose_chunks(list(ranked), chunks, per_article * len(ranked), per_article), ranked)

    def _candidates(
        self,
        dense: list[tuple[str, float]],
        keyword_hits: list[tuple[int, float]],
        titles: list[tuple[str, float]],
        scope: Scope,
    ) -> list[str]:
        by_chunk = self._catalog.chunk_articles([c for c, _ in dense])
        by_seq = self._catalog.articles_of_seqs([s for s, score in keyword_hits if score > 0])
        found = list(
            dict.fromkeys(
                [by_chunk[c] for c, _ in dense if c in by_chunk]
                + [by_seq[s] for s, score in keyword_hits if score > 0 and s in by_seq]
                + [a for a, sim in titles if sim > 0]
            )
        )
        visible = scope.visible(self._catalog.reader(), found)
        return [a for a in found if a in visible]

    def _chunk_evidence(
        self,
        candidates: list[str],
        qvec: np.ndarray,
        terms: list[str],
        dense: list[tuple[str, float]],
        stats: keywords.TermStats | None = None,
    ) -> list[ChunkEvidence]:
        keys = self._catalog.chunk_keys_of(candidates)  # (seq, chunk id, article id, embed key), in order
        vectors = self._cache.get(k for _, _, _, k in keys)
        from_store = dict(dense)
        bm25 = keywords.scores(self._catalog, terms, [s for s, _, _, _ in keys], stats)
        best_bm25 = max(bm25.values(), default=0.0) or 1.0
        out = []
        for seq, chunk_id, article_id, key in keys:
            vector = vectors.get(key)
            cosine = float(vector @ qvec) if vector is not None else from_store.get(chunk_id, 0.0)
            out.append(ChunkEvidence(chunk_id, article_id, cosine, bm25.get(seq, 0.0) / best_bm25))
        return out

    def _title_evidence(self, candidates: list[str], qvec: np.ndarray, known: dict[str, float]) -> dict[str, float]:
        missing = [a for a in candidates if a not in known]
        keys = title_keys(self._catalog, self._model_key, missing)
        vectors = self._cache.get(keys.values())
        sims = dict(known)
        for article_id, key in keys.items():
            if key in vectors:
                sims[article_id] = float(vectors[key] @ qvec)
        return sims

    def _passages(self, chosen: list[ChunkEvidence], score: dict[str, float]) -> list[Passage]:
        rows = {r.id: r for r in self._catalog.chunk_rows([c.chunk_id for c in chosen])}
        infos = {i.id: i for i in self._catalog.infos_for(list(dict.fromkeys(c.article_id for c in chosen)))}
        revisions = self._catalog.revisions(infos)  # (updated, corrections) by article
        return [
            Passage(
                chunk_id=c.chunk_id,
                article_id=c.article_id,
                text=rows[c.chunk_id].text,
                title=infos[c.article_id].title,
                outlet=infos[c.article_id].outlet,
                published=infos[c.article_id].published,
                url=infos[c.article_id].url,
                score=score[c.article_id],
                sentence_spans=rows[c.chunk_id].sentences,
                updated=revisions.get(c.article_id, (None, ()))[0],
                corrections=revisions.get(c.article_id, (None, ()))[1],
            )
            for c in chosen
            if c.chunk_id in rows and c.article_id in infos
        ]
