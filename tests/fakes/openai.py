"""A small OpenAI-compatible chat server on 127.0.0.1 with scripted replies, for tests."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted reply: text (streamed in pieces when asked), an HTTP error, a delay or raw bytes."""

    content: str = ""
    status: int = 200
    delay: float = 0.0  # seconds before the response starts
    chunk_delay: float = 0.0  # seconds between streamed pieces
    words_per_chunk: int = 2
    raw: bytes | None = None  # sent verbatim with raw_type instead of a well-formed reply
    raw_type: str = "text/html"


class FakeOpenAI:
    """POST /v1/chat/completions (plain JSON or `stream: true` SSE); records every request it gets."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self._replies: list[Reply] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        """The URL to hand to an OpenAI client (ends in /v1)."""
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def script(self, *replies: Reply | str) -> None:
        """Replies for the next requests, in order (a string is a plain text reply)."""
        with self._lock:
            self._replies = [Reply(r) if isinstance(r, str) else r for r in replies]

    def next_reply(self) -> Reply:
        """The next scripted reply; a 500 error when the script is used up."""
        with self._lock:
            return self._replies.pop(0) if self._replies else Reply(status=500, content="no scripted reply")

    def start(self) -> FakeOpenAI:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed replies still waiting are abandoned."""
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _chunks(text: str, words: int) -> list[str]:
    tokens = re.findall(r"\S+\s*", text)
    return ["".join(tokens[i : i + words]) for i in range(0, len(tokens), words)] or [""]


def _handler(fake: FakeOpenAI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def do_POST(self) -> None:
            try:
                self._post()
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def _post(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self._send(404, "application/json", b'{"error": {"message": "not found"}}')
            fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
            reply = fake.next_reply()
            if reply.delay and fake._stop.wait(reply.delay):
                return
            if reply.status != 200:
                error = {"error": {"message": reply.content or "error", "type": "server_error", "code": None}}
                return self._send(reply.status, "application/json", json.dumps(error).encode())
            if reply.raw is not None:
                return self._send(200, reply.raw_type, reply.raw)
            model = body.get("model", "fake")
            if not body.get("stream"):
                message = {"role": "assistant", "content": reply.content}
                data = {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                return self._send(200, "application/json", json.dumps(data).encode())
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            pieces = _chunks(reply.content, reply.words_per_chunk)
            for i, piece in enumerate(pieces):
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                self._event(model, delta, None)
                if reply.chunk_delay and fake._stop.wait(reply.chunk_delay):
                    return
            self._event(model, {}, "stop")
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()

        def _event(self, model: str, delta: dict, finish: str | None) -> None:
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()

        def _send(self, status: int, content_type: str, data: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler
