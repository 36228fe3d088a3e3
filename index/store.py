"""Chroma (embedded or server): collections, add, delete, switch-over.

Chunks are written through LlamaIndex's Chroma vector store (nodes with their metadata). Questions ask the
collection directly for ids and distances only: the engine reads passages from its catalog, so the
adapter's node decoding (and its 2 s import) would be spent for nothing on every question.
"""

from __future__ import annotations

import importlib
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from .errors import StoreError
from .settings import Settings

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.chroma import ChromaVectorStore


def preload_chromadb() -> threading.Thread:
    """Start importing chromadb (about 1 s) in a thread, so that other start-up work overlaps it."""
    thread = threading.Thread(target=importlib.import_module, args=("chromadb",), name="import-chromadb",
                              daemon=True)
    thread.start()
    return thread


def make_chroma_client(settings: Settings) -> Any:
    """An embedded persistent client in the data directory, or an HTTP client when a server is configured."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    try:
        if settings.chroma_is_server:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port, settings=chroma_settings)
        path = Path(settings.data_dir) / "chroma"
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
    except Exception as exc:  # chromadb raises plain exceptions for unreachable servers
        where = f"{settings.chroma_host}:{settings.chroma_port}" if settings.chroma_is_server else "the data directory"
        raise StoreError(f"Cannot open the Chroma store at {where}: {exc}") from exc


class VectorStore:
    """One named Chroma collection of chunk vectors (cosine space)."""

    def __init__(self, client: Any, name: str) -> None:
        self.name = name
        self._client = client
        try:
            collection = client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"})
        except Exception as exc:
            raise StoreError(f"Cannot open Chroma collection {name!r}: {exc}") from exc
        self._collection = collection
        self._store: "ChromaVectorStore | None" = None

    @property
    def llama_store(self) -> "ChromaVectorStore":
        """The LlamaIndex vector store over this collection."""
        if self._store is None:
            from llama_index.vector_stores.chroma import ChromaVectorStore

            self._store = ChromaVectorStore(chroma_collection=self._collection)
        return self._store

    def count(self) -> int:
        """How many vectors the collection holds."""
        return self._collection.count()

    def add(self, nodes: Sequence["TextNode"]) -> None:
        """Add nodes that carry their embeddings; on failure, remove whatever part was added."""
        if not nodes:
            return
        try:
            self.llama_store.add(list(nodes))
        except Exception as exc:
            self.delete_ids([n.node_id for n in nodes], quiet=True)
            raise StoreError(f"Could not write to the vector store: {exc}") from exc

    def delete_ids(self, ids: Sequence[str], quiet: bool = False) -> None:
        """Delete vectors by chunk id."""
        try:
            for start in range(0, len(ids), 5000):
                self._collection.delete(ids=list(ids[start : start + 5000]))
        except Exception as exc:
            if not quiet:
                raise StoreError(f"Could not delete from the vector store: {exc}") from exc

    def ids(self) -> set[str]:
        """Every chunk id in the collection."""
        found: set[str] = set()
        offset = 0
        while True:
            batch = self._collection.get(include=[], limit=5000, offset=offset)["ids"]
            found.update(batch)
            if len(batch) < 5000:
                return found
            offset += len(batch)

    def query(self, embedding: Sequence[float], top_k: int) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks."""
        if top_k <= 0:
            return []
        try:
            result = self._collection.query(query_embeddings=[list(map(float, embedding))], n_results=top_k,
                                            include=["distances"])
        except Exception as exc:
            raise StoreError(f"Could not query the vector store: {exc}") from exc
        # In cosine space Chroma's distance is 1 - cosine similarity.
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0])]


def collection_names(client: Any, prefix: str) -> list[str]:
    """Names of this project's collections in the client."""
    names = [c if isinstance(c, str) else c.name for c in client.list_collections()]
    return sorted(n for n in names if n.startswith(prefix + "-"))


def drop_collection(client: Any, name: str) -> None:
    """Delete a collection if it exists."""
    try:
        client.delete_collection(name)
    except Exception:
        pass
