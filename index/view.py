"""This process's view of the live vector store: it follows other processes' writes and generation
switches (the catalog's change counter says when), and every vector write happens under the data
directory's write lock from a fresh view."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator

from .catalog import Catalog
from .errors import StoreError
from .locks import DataLocks
from .store import NO_STORE, ChromaHandle, VectorStore

log = logging.getLogger(__name__)
READ_RELOAD_WAIT = 2.0  # a question waits at most this long for a writer before reading a slightly older view


class StoreView:
    """The live generation's collections, kept current with what every process committed."""

    def __init__(self, catalog: Catalog, handle: ChromaHandle | None, locks: DataLocks) -> None:
        self.catalog = catalog
        self.handle = handle or ChromaHandle.unavailable()
        self.locks = locks
        self._lock = threading.RLock()
        self._store: VectorStore | None = None

    def live(self) -> VectorStore:
        """The live store for reading, brought up to date with other processes' committed changes."""
        state = self.catalog.state()
        if self.handle.client is None:
            return NO_STORE
        if state.change_seq != self.handle.seen_seq:
            if not self.handle.embedded or self.handle.seen_seq < 0:
                self.handle.seen_seq = state.change_seq
            elif not self.locks.write.held:  # this process writing keeps its own view current
                self._reload_for_reading()
        store = self._store
        if store is None or store.name != state.collection or store.handle is not self.handle:
            with self._lock:
                self._follow_generation(state.collection)
                store = self._store
        assert store is not None
        return store

    def _reload_for_reading(self) -> None:
        # A reload while another process persists its index could read half-written files: take the write
        # lock; when a long write holds it, answer from the view we have and catch up at the next question.
        if not self.locks.write.acquire(READ_RELOAD_WAIT):
            log.debug("another process is writing; answering from the current view")
            return
        try:
            with self._lock:
                current = self.catalog.change_seq()
                if current != self.handle.seen_seq:
                    self.handle.reload()
                    self.handle.seen_seq = current
        finally:
            self.locks.write.release()

    def _follow_generation(self, name: str | None = None) -> None:
        name = name or self.catalog.state().collection
        if not name:
            raise StoreError("The index has no vector store yet; run `newsdesk rebuild`.")
        if self._store is None or self._store.name != name or self._store.handle is not self.handle:
            self._store = VectorStore(self.handle, name)

    @contextlib.contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[VectorStore]:
        """Hold the write lock with a fresh view of the live store; the caller commits its catalog change
        inside, and the view then counts it as seen."""
        with self.locks.writing(timeout):
            with self._lock:
                self.refresh_locked()
                store = self._store
            assert store is not None
            yield store
            self.handle.seen_seq = self.catalog.change_seq()

    def refresh_locked(self) -> None:
        """Catch up with other processes (the caller holds the write lock)."""
        seq = self.catalog.change_seq()
        if self.handle.embedded and seq != self.handle.seen_seq and self.handle.seen_seq >= 0:
            self.handle.reload()
        self.handle.seen_seq = seq
        self._follow_generation()

    def opened(self) -> None:
        """The store was just opened (its view is current as of now)."""
        with self._lock:
            if self.handle.seen_seq < 0:
                self.handle.seen_seq = self.catalog.change_seq()
            self._follow_generation()
