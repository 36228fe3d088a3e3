"""The embedding cache: every vector the engine has computed, by a key of model and text; the truth the
vector store is derived from (a store can be rebuilt from it without embedding anything again)."""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .errors import StoreError, storage_reason

_BATCH = 500


def cache_key(model_key: str, text: str) -> str:
    """The key of a text embedded by a model."""
    return hashlib.sha256(f"{model_key}\x1f{text}".encode()).hexdigest()


class EmbeddingCache:
    """SQLite file of (key, float32 vector); safe to share between threads and processes."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if read_only:
                self._db = sqlite3.connect(
                    f"file:{self.path}?mode=ro&immutable=1", uri=True, check_same_thread=False, isolation_level=None
                )
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None, timeout=10)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
                self._db.execute("CREATE TABLE IF NOT EXISTS embeddings (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
            self._db.execute("SELECT 1 FROM embeddings LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StoreError(
                f"The embedding cache {self.path} cannot be opened ({exc}). Move it aside: "
                "the vectors will be computed again."
            ) from exc
        self._lock = threading.RLock()

    def get(self, keys: Iterable[str]) -> dict[str, np.ndarray]:
        """The cached vectors among keys."""
        wanted = list(dict.fromkeys(keys))
        found: dict[str, np.ndarray] = {}
        try:
            with self._lock:
                for start in range(0, len(wanted), _BATCH):
                    part = wanted[start : start + _BATCH]
                    marks = ",".join("?" * len(part))
                    for key, blob in self._db.execute(
                        f"SELECT key, vector FROM embeddings WHERE key IN ({marks})", part
                    ):
                        found[key] = np.frombuffer(blob, dtype=np.float32)
        except sqlite3.Error as exc:
            raise StoreError(f"Could not read the embedding cache: {exc}") from exc
        return found

    def put(self, vectors: dict[str, np.ndarray]) -> None:
        """Remember vectors by key (a key already there keeps its vector)."""
        if not vectors:
            return
        rows = [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in vectors.items()]
        try:
            with self._lock:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    self._db.executemany("INSERT OR IGNORE INTO embeddings(key, vector) VALUES(?, ?)", rows)
                    self._db.execute("COMMIT")
                except BaseException:
                    with contextlib.suppress(sqlite3.Error):  # SQLite may have rolled back already (disk full)
                        self._db.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise StoreError(f"Could not write to the embedding cache: {storage_reason(str(exc))}") from exc

    def count(self) -> int:
        """How many vectors are cached."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        """Close the file."""
        with self._lock:
            self._db.close()
