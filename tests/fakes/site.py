"""A real HTTP server on 127.0.0.1 whose routes each test sets (pages, feeds, sitemaps), and DNS answers
that route a public-looking host to it."""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PUBLIC_IP = "93.184.215.14"  # any global address; the `public` fixture routes it to the local server
UA = "NewsdeskTest/1.0"


@dataclass
class Reply:
    """A canned answer: status, body, Content-Type and extra headers (Content-Length is added unless given)."""

    body: bytes = b""
    content_type: str = "application/rss+xml"
    status: int = 200
    headers: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Seen:
    """One request the server received."""

    host: str
    path: str
    headers: dict[str, str]


Route = Reply | Callable[["SiteHandler"], object]


class SiteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    site: Site

    def log_message(self, *args: object) -> None:
        pass

    def reply(self, answer: Reply) -> None:
        self.send_response(answer.status)
        if answer.content_type:
            self.send_header("Content-Type", answer.content_type)
        if not any(name.lower() in ("content-length", "transfer-encoding") for name, _ in answer.headers):
            self.send_header("Content-Length", str(len(answer.body)))
        for name, value in answer.headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(answer.body)

    def do_GET(self) -> None:
        self.site.requests.append(Seen(self.headers.get("Host", ""), self.path, dict(self.headers.items())))
        route = self.site.routes.get(self.path.split("?")[0])
        try:
            if route is None:
                self.reply(Reply(b"not found", "text/plain", 404))
            elif isinstance(route, Reply):
                self.reply(route)
            else:
                route(self)
        except OSError:
            pass  # the client hung up, as some tests intend


class Site:
    """The server's routes (path -> Reply or handler function) and the requests it saw."""

    def __init__(self, httpd: ThreadingHTTPServer, stop: threading.Event):
        self.httpd, self.stop = httpd, stop
        self.routes: dict[str, Route] = {}
        self.requests: list[Seen] = []

    @property
    def port(self) -> int:
        return int(self.httpd.server_port)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def paths(self) -> list[str]:
        return [seen.path for seen in self.requests]


def fake_dns(table: dict[str, list[str]]) -> Callable[[str, int], list[str]]:
    """A resolver answering from a table (unknown names fail like a real lookup)."""

    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve
