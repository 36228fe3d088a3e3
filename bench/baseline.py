"""The reference pipeline a newcomer builds from LlamaIndex's starter tutorial, for side-by-side figures.

VectorStoreIndex over Chroma, the default SentenceSplitter (1024 tokens, 200 overlap), the same embedding
model as Newsdesk, top-k similarity; no keyword search, no dates. Its answer is the first 1,000 characters
of the top chunk. The only addition is an embedding cache (same key scheme as the engine's) so that
re-running the harness does not embed the same chunks again; it does not change any vector.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding
from pydantic import PrivateAttr

from index import Embedder, EmbeddingCache, cache_key, model_id

TOP_K = 20
COLLECTION = "starter-baseline"


class CachedEmbedding(BaseEmbedding):
    """Wraps an embedding model with the engine's embedding cache (the same keys: model id and text)."""

    model_name: str = "cached"
    _inner: Any = PrivateAttr()
    _cache: Any = PrivateAttr()
    _key_prefix: str = PrivateAttr()
    embedded: int = 0
    cached: int = 0

    def __init__(self, inner: Embedder, cache: EmbeddingCache, **kwargs: Any) -> None:
        super().__init__(model_name=inner.model_name, embed_batch_size=max(inner.embed_batch_size, 256), **kwargs)
        self._inner = inner
        self._cache = cache
        self._key_prefix = model_id(inner)

    @classmethod
    def class_name(cls) -> str:
        return "CachedEmbedding"

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        keys = [cache_key(self._key_prefix, t) for t in texts]
        found = self._cache.get(keys)
        missing = {k: t for k, t in zip(keys, texts, strict=False) if k not in found}
        if missing:
            embed = getattr(self._inner, "embed", None)
            vectors = (
                embed(list(missing.values()))
                if callable(embed)
                else np.asarray(self._inner.get_text_embedding_batch(list(missing.values())), dtype=np.float32)
            )
            fresh = dict(zip(missing, vectors, strict=False))
            self._cache.put(fresh)
            found.update(fresh)
        self.embedded += len(missing)
        self.cached += len(texts) - len(missing)
        return [np.asarray(found[k], dtype=np.float32).tolist() for k in keys]

    def _get_text_embedding(self, text: str) -> list[float]:
        return self._get_text_embeddings([text])[0]

    def _get_query_embedding(self, query: str) -> list[float]:
        return np.asarray(self._inner.get_query_embedding(query), dtype=np.float32).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk of the starter pipeline."""

    url: str | None
    text: str
    score: float


class StarterPipeline:
    """The starter-tutorial pipeline, persisted in its own Chroma directory beside the eval index."""

    def __init__(self, data_dir: Path, embed_model: Embedder, cache_path: Path, top_k: int = TOP_K) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        self.dir = Path(data_dir) / "baseline"
        self.dir.mkdir(parents=True, exist_ok=True)
        self._embed = CachedEmbedding(embed_model, EmbeddingCache(cache_path))  # shares the engine's cache
        self._client = chromadb.PersistentClient(
            path=str(self.dir / "chroma"), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.top_k = top_k
        self._index = None
        self._retriever = None

    def build(self, corpus: Path, progress: Callable[[int, int], None] | None = None) -> dict:
        """Index the corpus as the tutorial does (once per corpus file); returns build figures."""
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        from .corpus import file_digest, iter_jsonl

        stamp = self.dir / "built.json"
        digest = file_digest(corpus)
        if stamp.exists() and json.loads(stamp.read_text()).get("corpus") == digest:
            collection = self._client.get_or_create_collection(COLLECTION)
            self._index = VectorStoreIndex.from_vector_store(
                ChromaVectorStore(chroma_collection=collection), embed_model=self._embed
            )
            return {**json.loads(stamp.read_text()), "reused": True}
        try:
            self._client.delete_collection(COLLECTION)
        except Exception:
            pass
        collection = self._client.get_or_create_collection(COLLECTION)
        store = ChromaVectorStore(chroma_collection=collection)
        documents = [
            Document(text=r["body"], metadata={"title": r.get("title") or "", "url": r.get("url") or ""})
            for r in iter_jsonl(corpus)
            if (r.get("body") or "").strip()
        ]
        started = time.perf_counter()
        index = VectorStoreIndex(
            [], storage_context=StorageContext.from_defaults(vector_store=store), embed_model=self._embed
        )
        splitter = SentenceSplitter()  # the default: 1024 tokens, 200 overlap
        chunks = 0
        step = 100
        for start in range(0, len(documents), step):
            nodes = splitter.get_nodes_from_documents(documents[start : start + step])
            index.insert_nodes(nodes)
            chunks += len(nodes)
            if progress:
                progress(min(start + step, len(documents)), len(documents))
        figures = {
            "corpus": digest,
            "articles": len(documents),
            "chunks": chunks,
            "seconds": time.perf_counter() - started,
            "embedded": self._embed.embedded,
            "cached": self._embed.cached,
        }
        stamp.write_text(json.dumps(figures))
        self._index = index
        return {**figures, "reused": False}

    def query(self, question: str) -> list[Hit]:
        """The top_k chunks by cosine similarity."""
        if self._retriever is None:
            self._retriever = self._index.as_retriever(similarity_top_k=self.top_k)
        found = self._retriever.retrieve(question)
        return [
            Hit(url=n.node.metadata.get("url"), text=n.node.get_content(), score=float(n.score or 0.0)) for n in found
        ]
