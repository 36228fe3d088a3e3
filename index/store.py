"""The vector store (Chroma, embedded or server): a derived index of the vectors whose truth is the embedding
cache. Each generation has two collections: chunk vectors and title vectors, each with the `article_id` and
the `server` (corpus) metadata that every query filters on (servers.Scope.where).

Every call has a deadline (a hung server gives "not answering" in seconds, not a wait forever). Embedded
Chroma is not safe across processes on its own (a process's in-memory index goes stale when another writes,
and a stale index written back loses vectors: chroma-core/chroma#3792): `ChromaHandle.reload` gives the
process a fresh view, which the engine asks for, under the data directory's write lock, whenever the
catalog says another process changed something.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import logging
import shutil
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from .errors import StoreError, StoreNotAnswering, storage_reason
from .settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")
WRITE_BATCH = 1000  # vectors per write call (Chroma refuses more than its max batch size, 5,461 here)
WRITE_TIMEOUT_FACTOR = 6  # a write may take this many times the query timeout
OPEN_SECONDS = 20.0  # opening a client sets up much of chromadb once (seconds on a busy machine)
_HANDLES: dict[str, ChromaHandle] = {}
_HANDLES_LOCK = threading.Lock()


def preload_chromadb() -> threading.Thread:
    """Start importing chromadb (about 1 s) in a thread, so that other start-up work overlaps it."""
    thread = threading.Thread(target=importlib.import_module, args=("chromadb",), name="import-chromadb", daemon=True)
    thread.start()
    return thread


def chroma_path(settings: Settings) -> Path:
    """Where the embedded store lives."""
    return Path(settings.data_dir) / "chroma"


class ChromaHandle:
    """One Chroma client, shared by every engine of this process on the same store, with call deadlines."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.embedded = not settings.chroma_is_server
        self.where = (
            f"the Chroma server at {settings.chroma_host}:{settings.chroma_port}"
            if not self.embedded
            else f"the vector store in {chroma_path(settings)}"
        )
        self.version = 0  # bumped by every reload: collections fetched before it are stale
        self._lock = threading.RLock()
        self.seen_seq = -1  # the catalog change counter this process's view of the store reflects
        self.client = self._connect()

    @classmethod
    def unavailable(cls) -> ChromaHandle:
        """A handle with no store behind it (a read-only data directory the embedded store cannot open)."""
        handle = cls.__new__(cls)
        handle.embedded, handle.version, handle.seen_seq, handle.client = True, 0, 0, None
        handle.where = "the vector store (not available: the data directory is read-only)"
        handle._lock = threading.RLock()
        return handle

    def _connect(self) -> Any:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        s = self.settings

        def make() -> Any:
            if not self.embedded:
                client = chromadb.HttpClient(host=s.chroma_host or "", port=s.chroma_port, settings=chroma_settings)
                client.heartbeat()
                return client
            path = chroma_path(s)
            path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)

        try:
            return self.call(make, "open", timeout=max(self.settings.chroma_timeout, OPEN_SECONDS))
        except StoreError as exc:
            if self.embedded and "not answering" not in str(exc):
                raise StoreError(
                    f"{str(exc).rstrip('.')}. Run `newsdesk rebuild` to rebuild the vector store from the catalog and "
                    "the embedding cache (nothing is embedded again); the damaged copy is kept as "
                    f"{chroma_path(s).name}.damaged-…."
                ) from exc
            raise

    def call(self, fn: Callable[[], T], what: str, *, write: bool = False, timeout: float | None = None) -> T:
        """Run a store call with a deadline; StoreError (saying what to do) when it fails or hangs."""
        timeout = timeout or self.settings.chroma_timeout * (WRITE_TIMEOUT_FACTOR if write else 1)
        if write and self.embedded and disk_full(chroma_path(self.settings)):
            # checked first: on a full disk Chroma can hang inside a write while holding the interpreter's
            # lock, and then no deadline can fire
            raise StoreError(f"Could not {what} {self.where}: the disk is full (free some space and try again).")
        future: concurrent.futures.Future[T] = concurrent.futures.Future()

        def run() -> None:
            try:
                future.set_result(fn())
            except BaseException as exc:
                future.set_exception(exc)

        # a daemon thread per call: one that never returns (a frozen server, a full disk) cannot keep the
        # process from exiting, as a pool's joined threads would
        threading.Thread(target=run, name="chroma-call", daemon=True).start()
        try:
            return future.result(timeout=timeout)
        except concurrent.futures.TimeoutError:
            raise StoreNotAnswering(
                f"{self.where[0].upper()}{self.where[1:]} is not answering (waited {timeout:g} s to "
                f"{what}). "
                + (
                    "Check that the server is running and reachable, then try again."
                    if not self.embedded
                    else "Try again; if it persists, restart Newsdesk."
                )
            ) from None
        except StoreError:
            raise
        except Exception as exc:  # chromadb raises plain exceptions of many kinds
            raise StoreError(f"Could not {what} {self.where}: {_reason(exc)}") from exc

    def reload(self) -> None:
        """A fresh view of an embedded store (another process wrote to it); a server needs none."""
        if not self.embedded:
            return
        with self._lock:
            from chromadb.api.shared_system_client import SharedSystemClient

            system = SharedSystemClient._identifier_to_system.pop(str(chroma_path(self.settings)), None)
            if system is not None:
                try:
                    system.stop()
                except Exception as exc:  # a stopped system can only be dropped
                    log.debug("stopping the stale Chroma system: %s", exc)
            self.client = self._connect()
            self.version += 1

    def collection(self, name: str, create: bool = True) -> Any:
        """A collection of this store (cosine space)."""
        client = self.client
        if create:
            return self.call(
                lambda: client.get_or_create_collection(name, metadata={"hnsw:space": "cosine"}),
                f"open the collection {name!r} in",
            )
        return self.call(lambda: client.get_collection(name), f"open the collection {name!r} in")

    def names(self, prefix: str) -> list[str]:
        """Names of this project's collections."""
        client = self.client
        found = self.call(client.list_collections, "list the collections of")
        names = [c if isinstance(c, str) else c.name for c in found]
        return sorted(n for n in names if n.startswith(prefix + "-"))

    def drop(self, name: str) -> None:
        """Delete a collection and, in the embedded store, its segment files (which Chroma leaves behind:
        chroma-core/chroma#5520)."""
        client = self.client
        segments = self._segment_dirs(name)
        try:
            self.call(lambda: client.delete_collection(name), f"delete the collection {name!r} from", write=True)
        except StoreError as exc:
            if "does not exist" not in str(exc):
                raise
        for folder in segments:
            shutil.rmtree(folder, ignore_errors=True)

    def _segment_dirs(self, name: str) -> list[Path]:
        if not self.embedded:
            return []
        import sqlite3

        path = chroma_path(self.settings)
        try:
            db = sqlite3.connect(f"file:{path / 'chroma.sqlite3'}?mode=ro", uri=True)
            try:
                rows = db.execute(
                    "SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id WHERE c.name = ?", (name,)
                ).fetchall()
            finally:
                db.close()
        except sqlite3.Error:
            return []
        return [path / r[0] for r in rows if (path / r[0]).is_dir()]

    def remove_orphan_segments(self) -> int:
        """Delete segment folders of the embedded store that no collection owns; returns how many."""
        if not self.embedded:
            return 0
        import sqlite3

        path = chroma_path(self.settings)
        try:
            db = sqlite3.connect(f"file:{path / 'chroma.sqlite3'}?mode=ro", uri=True)
            try:
                owned = {r[0] for r in db.execute("SELECT id FROM segments")}
            finally:
                db.close()
        except sqlite3.Error:
            return 0
        removed = 0
        for folder in path.iterdir():
            if folder.is_dir() and _looks_like_uuid(folder.name) and folder.name not in owned:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def handle_for(settings: Settings) -> ChromaHandle:
    """The process's handle on the store the settings name (one per embedded path or server)."""
    key = (
        f"http://{settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_is_server
        else str(chroma_path(settings).resolve())
    )
    with _HANDLES_LOCK:
        handle = _HANDLES.get(key)
        if handle is None:
            handle = _HANDLES[key] = ChromaHandle(settings)
        return handle


def move_aside(settings: Settings) -> Path:
    """Move a damaged embedded store out of the way (kept for inspection); returns where it went."""
    import time

    forget_handle(settings)
    path = chroma_path(settings)
    target = path.with_name(f"{path.name}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
    path.rename(target)
    return target


def forget_handle(settings: Settings) -> None:
    """Drop the process's handle (the store was moved aside or replaced)."""
    key = (
        f"http://{settings.chroma_host}:{settings.chroma_port}"
        if settings.chroma_is_server
        else str(chroma_path(settings).resolve())
    )
    with _HANDLES_LOCK:
        _HANDLES.pop(key, None)
    if not settings.chroma_is_server:  # a failed open may have left its half-made system registered too
        from chromadb.api.shared_system_client import SharedSystemClient

        system = SharedSystemClient._identifier_to_system.pop(str(chroma_path(settings)), None)
        if system is not None:
            try:
                system.stop()
            except Exception as exc:
                log.debug("stopping a Chroma system: %s", exc)


class VectorStore:
    """One generation of the store: the chunk collection `name` and the title collection `name-titles`."""

    def __init__(self, handle: ChromaHandle, name: str, *, create: bool = True) -> None:
        self.handle = handle
        self.name = name
        self._create = create
        self._version = -1
        self._chunks: Any = None
        self._titles: Any = None
        self._refresh()

    @property
    def titles_name(self) -> str:
        """The title collection's name."""
        return f"{self.name}-titles"

    def _refresh(self, force: bool = False) -> None:
        if force or self._version != self.handle.version:
            self._chunks = self.handle.collection(self.name, self._create)
            self._titles = self.handle.collection(self.titles_name, self._create)
            self._version = self.handle.version

    def _call(self, fn: Callable[[Any, Any], T], what: str, *, write: bool = False) -> T:
        self._refresh()
        try:
            chunks, titles = self._chunks, self._titles
            return self.handle.call(lambda: fn(chunks, titles), what, write=write)
        except StoreError as exc:
            if "does not exist" not in str(exc):
                raise
        # the collection was recreated under us (a server restarted empty, another process's rebuild)
        self._refresh(force=True)
        chunks, titles = self._chunks, self._titles
        return self.handle.call(lambda: fn(chunks, titles), what, write=write)

    # writing --------------------------------------------------------------------------------------
    def add_chunks(
        self, ids: Sequence[str], vectors: np.ndarray, article_ids: Sequence[str], servers: Sequence[str]
    ) -> None:
        """Add (or overwrite) chunk vectors with their article and corpus, in batches the store accepts."""
        for start in range(0, len(ids), WRITE_BATCH):
            part = slice(start, start + WRITE_BATCH)
            batch_ids, batch_vectors = list(ids[part]), np.asarray(vectors[part], dtype=np.float32).tolist()
            metadatas = [{"article_id": a, "server": s} for a, s in zip(article_ids[part], servers[part], strict=False)]
            self._call(_upsert(False, batch_ids, batch_vectors, metadatas), "write to", write=True)

    def add_titles(self, article_ids: Sequence[str], vectors: np.ndarray, servers: Sequence[str]) -> None:
        """Add (or overwrite) article title vectors with their corpus."""
        for start in range(0, len(article_ids), WRITE_BATCH):
            part = slice(start, start + WRITE_BATCH)
            batch_ids, batch_vectors = list(article_ids[part]), np.asarray(vectors[part], dtype=np.float32).tolist()
            metadatas = [{"article_id": a, "server": s} for a, s in zip(batch_ids, servers[part], strict=False)]
            self._call(_upsert(True, batch_ids, batch_vectors, metadatas), "write to", write=True)

    def delete_chunks(self, ids: Sequence[str]) -> None:
        """Delete chunk vectors by id."""
        for start in range(0, len(ids), WRITE_BATCH):
            part = list(ids[start : start + WRITE_BATCH])
            self._call(_delete(False, ids=part), "delete from", write=True)

    def delete_titles(self, article_ids: Sequence[str]) -> None:
        """Delete title vectors by article id."""
        for start in range(0, len(article_ids), WRITE_BATCH):
            part = list(article_ids[start : start + WRITE_BATCH])
            self._call(_delete(True, ids=part), "delete from", write=True)

    def delete_articles(self, article_ids: Sequence[str]) -> None:
        """Delete every chunk vector of the given articles, whatever version wrote it, and their titles."""
        for start in range(0, len(article_ids), 100):
            part = list(article_ids[start : start + 100])
            self._call(_delete(False, where={"article_id": {"$in": part}}), "delete from", write=True)
        self.delete_titles(article_ids)

    # reading --------------------------------------------------------------------------------------
    def query_chunks(self, vector: np.ndarray, k: int, *, where: dict | None) -> list[tuple[str, float]]:
        """(chunk id, cosine similarity) of the nearest chunks among those matching `where` (a Chroma filter on
        article_id and server; None only for a whole-store query)."""
        return self._query(vector, k, titles=False, where=where)

    def query_titles(self, vector: np.ndarray, k: int, *, where: dict | None) -> list[tuple[str, float]]:
        """(article id, cosine similarity) of the nearest titles among those matching `where`."""
        return self._query(vector, k, titles=True, where=where)

    def _query(self, vector: np.ndarray, k: int, *, titles: bool, where: dict | None) -> list[tuple[str, float]]:
        if k <= 0:
            return []
        q = [np.asarray(vector, dtype=np.float32).tolist()]

        def run(c: Any, t: Any) -> dict:
            collection = t if titles else c
            n = min(k, collection.count())
            if n == 0:
                return {"ids": [[]], "distances": [[]]}
            return collection.query(query_embeddings=q, n_results=n, where=where, include=["distances"])

        result = self._call(run, "search")
        # In cosine space Chroma's distance is 1 - cosine similarity.
        return [(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], result["distances"][0], strict=False)]

    def ping(self) -> None:
        """A cheap call with the query deadline: a hung store fails here in seconds, before a long write."""
        self._call(lambda c, t: c.count(), "reach")

    def counts(self) -> tuple[int, int]:
        """(chunk vectors, title vectors)."""
        return self._call(lambda c, t: (c.count(), t.count()), "count the vectors in")

    def chunk_ids_of(self, article_ids: Sequence[str]) -> set[str]:
        """The ids of the chunk vectors the store holds for the given articles."""
        found: set[str] = set()
        for start in range(0, len(article_ids), 100):
            part = list(article_ids[start : start + 100])
            found.update(self._call(_ids(False, where={"article_id": {"$in": part}}), "list the vectors in"))
        return found

    def chunk_ids(self) -> set[str]:
        """Every chunk id in the collection."""
        return self._ids(titles=False)

    def title_ids(self) -> set[str]:
        """Every article id with a title vector."""
        return self._ids(titles=True)

    def _ids(self, *, titles: bool) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            batch = self._call(_ids(titles, limit=5000, offset=offset), "list the vectors in")
            found.update(batch)
            if len(batch) < 5000:
                return found
            offset += len(batch)


# Store calls made with their arguments bound (a call left running past its deadline keeps its own batch).
def _upsert(titles: bool, ids: list[str], vectors: list, metadatas: list[dict]) -> Callable[[Any, Any], None]:
    return lambda c, t: (t if titles else c).upsert(ids=ids, embeddings=vectors, metadatas=metadatas)


def _delete(titles: bool, **how: Any) -> Callable[[Any, Any], None]:
    return lambda c, t: (t if titles else c).delete(**how)


def _ids(titles: bool, **how: Any) -> Callable[[Any, Any], list[str]]:
    return lambda c, t: (t if titles else c).get(include=[], **how)["ids"]


def disk_full(path: Path, margin: int = 1 << 20) -> bool:
    """True when the files under path cannot grow: the file system is (nearly) full, or a file has reached
    the process's file-size limit."""
    import os
    import resource

    try:
        stats = os.statvfs(path)
        if stats.f_bavail * stats.f_frsize < margin:
            return True
        limit = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
        if limit != resource.RLIM_INFINITY:
            return any(p.stat().st_size + margin // 16 >= limit for p in path.rglob("*") if p.is_file())
    except OSError:
        return False
    return False


def _looks_like_uuid(name: str) -> bool:
    parts = name.split("-")
    return len(name) == 36 and [len(p) for p in parts] == [8, 4, 4, 4, 12]


def _reason(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    lower = text.lower()
    if "connect" in lower and ("refused" in lower or "error" in lower):
        return f"cannot connect ({text[:200]}); check that the server is running"
    return storage_reason(text)


class _NoStore:
    """What answers for the vector store when there is none: no nearest chunks or titles, no vectors."""

    name = ""

    def query_chunks(self, vector: np.ndarray, k: int, *, where: dict | None) -> list[tuple[str, float]]:
        """Nothing is near: candidates come from keywords."""
        return []

    def query_titles(self, vector: np.ndarray, k: int, *, where: dict | None) -> list[tuple[str, float]]:
        """Nothing is near."""
        return []

    def counts(self) -> tuple[int, int]:
        """No vectors."""
        return 0, 0


NO_STORE: Any = _NoStore()
