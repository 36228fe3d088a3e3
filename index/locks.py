"""Locks shared by the processes that use one data directory (the bot, `newsdesk add`, `newsdesk rebuild`):
advisory file locks (flock), released by the kernel when their process dies, however it dies."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import RebuildInProgress, StoreError

POLL_SECONDS = 0.05


class FileLock:
    """An exclusive lock on a file, re-entrant within one process (a thread lock guards the threads)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._thread_lock = threading.RLock()
        self._fd: int | None = None
        self._depth = 0

    @contextlib.contextmanager
    def holding(self, timeout: float, busy_message: str) -> Iterator[None]:
        """Hold the lock, waiting up to `timeout` seconds (0: do not wait); StoreError when it stays busy."""
        if not self.acquire(timeout):
            raise StoreError(busy_message)
        try:
            yield
        finally:
            self.release()

    def acquire(self, timeout: float) -> bool:
        """Take the lock within `timeout` seconds; False when another process (or thread) keeps it."""
        deadline = time.monotonic() + max(timeout, 0.0)
        got = self._thread_lock.acquire(timeout=timeout) if timeout > 0 else self._thread_lock.acquire(blocking=False)
        if not got:
            return False
        if self._depth:
            self._depth += 1
            return True
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            self._thread_lock.release()
            raise StoreError(f"Cannot use the lock file {self.path}: {exc.strerror or exc}") from exc
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    self._thread_lock.release()
                    return False
                time.sleep(POLL_SECONDS)
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            os.write(fd, str(os.getpid()).encode())
        self._fd, self._depth = fd, 1
        return True

    def release(self) -> None:
        """Give the lock back."""
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
        self._thread_lock.release()

    @property
    def held(self) -> bool:
        """True while this process holds the lock."""
        return self._depth > 0

    def is_held_elsewhere(self) -> bool:
        """True when another process holds the lock now."""
        if self._depth:
            return False
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(fd, fcntl.LOCK_UN)
            return False
        except BlockingIOError:
            return True
        finally:
            os.close(fd)

    def holder(self) -> str:
        """The process id written by the holder, or '' when unknown."""
        try:
            return self.path.read_text().strip()
        except OSError:
            return ""


class DataLocks:
    """The locks of one data directory: one writer at a time, one rebuild at a time."""

    WRITE_WAIT = 120.0  # an add waits this long for another process's write to finish

    def __init__(self, data_dir: Path) -> None:
        self.write = FileLock(Path(data_dir) / "write.lock")
        self.rebuild = FileLock(Path(data_dir) / "rebuild.lock")

    @contextlib.contextmanager
    def writing(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the write lock (queued behind other writers)."""
        with self.write.holding(
            self.WRITE_WAIT if timeout is None else timeout,
            "Another Newsdesk process has been writing to this index for too long; try again in a minute.",
        ):
            yield

    @contextlib.contextmanager
    def rebuilding(self) -> Iterator[None]:
        """Hold the rebuild lock, or refuse at once when a rebuild runs (here or in another process)."""
        if not self.rebuild.acquire(0):
            pid = self.rebuild.holder()
            raise RebuildInProgress("A rebuild is already running" + (f" (process {pid})." if pid else "."))
        try:
            yield
        finally:
            self.rebuild.release()
