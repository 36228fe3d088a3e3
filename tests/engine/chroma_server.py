"""A real `chroma run` server on a free loopback port, which tests can stop, freeze and restart."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _binary() -> str:
    found = Path(sys.executable).with_name("chroma")
    return str(found) if found.exists() else (shutil.which("chroma") or "chroma")


class ChromaServer:
    """`chroma run --path PATH` on 127.0.0.1:port."""

    def __init__(self, path: Path, port: int | None = None) -> None:
        self.path, self.port = Path(path), port or free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> ChromaServer:
        """Start it and wait until it accepts connections."""
        self.proc = subprocess.Popen(
            [_binary(), "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.proc.kill()
        raise RuntimeError("chroma run did not start")

    def stop(self) -> None:
        """SIGTERM, as an operator stops it."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGCONT)
            self.proc.terminate()
            self.proc.wait(timeout=30)
            self.proc = None

    def freeze(self) -> None:
        """SIGSTOP: the server hangs, its port still open."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        """SIGCONT."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGCONT)
