"""Safe fetching against a real HTTP server on 127.0.0.1 (started per test module in a thread)."""

from __future__ import annotations

import contextlib
import shutil
import socket
import ssl
import subprocess
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index import fetch
from index.articles import article_from_bytes
from index.errors import ArticleTooLarge, BlockedURL, FetchError, UnsupportedFormat
from index.fetch import FetchedPage, fetch_url, is_public_address

PUBLIC_IP = "93.184.215.14"  # any global address; tests route it to the local server
UA = "NewsdeskTest/1.0"
ARTICLE = b"""<!DOCTYPE html><html><head>
<title>Harbour reopens after storm - Coast News</title>
<meta property="og:title" content="Harbour reopens after storm">
<meta property="og:site_name" content="Coast News">
<meta property="article:published_time" content="2024-02-10T08:30:00+00:00">
<script>alert('x')</script></head>
<body><article><h1>Harbour reopens after storm</h1>
<p>The harbour reopened on Saturday after a week of repairs to the sea wall, the port authority said.</p>
<p>Fishing boats returned to their moorings and the ferry service will resume its normal timetable on Monday.</p>
</article></body></html>"""


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stop: threading.Event
    requests: list[str]

    def log_message(self, *args):  # keep test output quiet
        pass

    def send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "text/html; charset=utf-8",
        headers: dict | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.requests.append(f"{self.headers['Host']} {self.path}")
        route = getattr(self, "route_" + self.path.strip("/").split("?")[0].replace("-", "_"), None)
        try:
            route() if route else self.send(404, b"not found", "text/plain")
        except OSError:
            pass  # the client hung up, as the tests intend

    def route_article(self):
        self.send(200, ARTICLE)

    def route_notes(self):
        self.send(200, "Plain notes: caf\u00e9".encode(), "text/plain; charset=utf-8")

    def route_redirect(self):
        self.send(302, headers={"Location": "/article?from=redirect"})

    def route_loop(self):
        self.send(302, headers={"Location": "/loop"})

    def route_to_metadata(self):
        self.send(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})

    def route_to_internal(self):
        self.send(301, headers={"Location": "http://intranet.example/secret"})

    def route_image(self):
        self.send(200, b"\x89PNG\r\n\x1a\n" + bytes(100), "image/png")

    def route_sleep(self):
        self.stop.wait(5)

    def route_trickle(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", "1000")
        self.end_headers()
        for _ in range(1000):
            if self.stop.wait(0.05):
                return
            self.wfile.write(b"x")
            self.wfile.flush()

    def route_trickle_headers(self):
        for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 200:
            if self.stop.wait(0.05):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()

    def route_big_length(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(50_000_000))
        self.end_headers()
        self.wfile.write(b"<html>")

    def route_big_chunked(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for _ in range(100):  # 100 x 10 KB, far over the 20 KB cap
            self.wfile.write(b"%x\r\n%s\r\n" % (10_000, b"y" * 10_000))
        self.wfile.write(b"0\r\n\r\n")


@pytest.fixture(scope="module")
def server():
    stop = threading.Event()
    handler = type("TestHandler", (Handler,), {"stop": stop, "requests": []})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield httpd
    stop.set()
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def base(server) -> str:
    server.RequestHandlerClass.requests.clear()
    return f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def public_route(server, monkeypatch):
    """Make PUBLIC_IP connect to the local server, so allow_private=False paths can be exercised."""
    real_open = fetch._open_socket

    def open_socket(address, port, timeout):
        if address == PUBLIC_IP:
            return socket.create_connection(("127.0.0.1", server.server_port), timeout=timeout)
        return real_open(address, port, timeout)

    monkeypatch.setattr(fetch, "_open_socket", open_socket)


def get(url: str, **kwargs) -> FetchedPage:
    options = {"timeout": 3.0, "max_bytes": 20_000, "allow_private": True, "user_agent": UA}
    return fetch_url(url, **{**options, **kwargs})


def fake_dns(table: dict[str, list[str]]):
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


# --- success ------------------------------------------------------------------------------------


def test_html_page_becomes_article(base, server):
    page = get(base + "/article")
    assert page.url == base + "/article" and page.content_type.startswith("text/html")
    assert server.RequestHandlerClass.requests == [f"127.0.0.1:{server.server_port} /article"]
    article = article_from_bytes(page.data, content_type=page.content_type, url=page.url, max_bytes=20_000)
    assert article.title == "Harbour reopens after storm"
    assert article.published == date(2024, 2, 10) and article.outlet == "Coast News"
    assert "sea wall" in article.body and "alert" not in article.body


def test_plain_text_with_charset(base):
    page = get(base + "/notes")
    assert article_from_bytes(page.data, content_type=page.content_type, max_bytes=1000).body == "Plain notes: café"


def test_redirect_followed_and_final_url_reported(base):
    page = get(base + "/redirect")
    assert page.url == base + "/article?from=redirect" and b"Harbour" in page.data


def test_public_host_is_pinned_with_host_header(base, server, public_route):
    page = get(
        "http://news.example:8080/article", allow_private=False, resolver=fake_dns({"news.example": [PUBLIC_IP]})
    )
    assert b"Harbour" in page.data
    assert server.RequestHandlerClass.requests == ["news.example:8080 /article"]


# --- refused before any connection ----------------------------------------------------------------


def test_loopback_refused_without_allow_private(base, server):
    with pytest.raises(BlockedURL, match="127.0.0.1"):
        get(base + "/article", allow_private=False)
    assert server.RequestHandlerClass.requests == []


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/",
        "http://192.168.0.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://172.16.5.4/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://127.1/",
        "http://localhost/",
    ],
)
def test_private_literal_hosts_refused(url):
    with pytest.raises(BlockedURL):
        get(url, allow_private=False)


def test_any_private_address_among_several_refused():
    with pytest.raises(BlockedURL, match="10.0.0.7"):
        get("http://mixed.example/", allow_private=False, resolver=fake_dns({"mixed.example": [PUBLIC_IP, "10.0.0.7"]}))


@pytest.mark.parametrize(
    "url, error, message",
    [
        ("ftp://example.com/file", BlockedURL, "Only http and https"),
        ("file:///etc/passwd", BlockedURL, "Only http and https"),
        ("javascript:alert(1)", BlockedURL, "Only http and https"),
        ("http://user:pass@example.com/", BlockedURL, "user name or password"),
        ("http:///nohost", FetchError, "no host"),
        ("http://example.com:99999/", FetchError, "invalid port"),
    ],
)
def test_bad_urls_refused(url, error, message):
    with pytest.raises(error, match=message):
        get(url, allow_private=False)


def test_address_classification():
    assert is_public_address("8.8.8.8") and is_public_address("2606:4700::1111")
    for address in (
        "127.0.0.1",
        "10.0.0.1",
        "fe80::1",
        "fc00::1",
        "::",
        "::ffff:10.0.0.1",
        "2002:7f00:1::1",
        "ff02::1",
    ):
        assert not is_public_address(address), address


# --- redirects re-checked -------------------------------------------------------------------------


def test_redirect_to_metadata_address_refused(base, server, public_route):
    with pytest.raises(BlockedURL, match="169.254.169.254"):
        get("http://news.example/to-metadata", allow_private=False, resolver=fake_dns({"news.example": [PUBLIC_IP]}))
    assert [r.split()[1] for r in server.RequestHandlerClass.requests] == ["/to-metadata"]


def test_redirect_to_host_resolving_private_refused(base, server, public_route):
    dns = fake_dns({"news.example": [PUBLIC_IP], "intranet.example": ["10.20.30.40"]})
    with pytest.raises(BlockedURL, match="intranet.example"):
        get("http://news.example/to-internal", allow_private=False, resolver=dns)
    assert len(server.RequestHandlerClass.requests) == 1


def test_redirect_loop_stops(base, server):
    with pytest.raises(FetchError, match="Too many redirects"):
        get(base + "/loop")
    assert len(server.RequestHandlerClass.requests) == fetch.MAX_REDIRECTS + 1


# --- slow, large, wrong --------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sleep", "/trickle", "/trickle-headers"])
def test_slow_servers_time_out(base, path):
    with pytest.raises(FetchError, match="timed out after 0.5 s"):  # the servers would take 5 s and more
        get(base + path, timeout=0.5)


def test_oversized_content_length_refused_before_reading(base):
    with pytest.raises(ArticleTooLarge, match="50.0 MB"):
        get(base + "/big-length")


def test_oversized_chunked_body_stopped_while_streaming(base):
    with pytest.raises(ArticleTooLarge, match="limit of 20.0 KB"):
        get(base + "/big-chunked")


def test_http_error_status(base):
    with pytest.raises(FetchError, match="404"):
        get(base + "/missing")


def test_wrong_content_type(base):
    with pytest.raises(UnsupportedFormat, match="image/png"):
        get(base + "/image")


def test_unreachable_and_unknown_hosts():
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match="refused the connection"):
        get(f"http://127.0.0.1:{port}/")
    with pytest.raises(FetchError, match="Could not find the host"):
        get("http://no-such-host.invalid/", resolver=fake_dns({}))


# --- HTTPS --------------------------------------------------------------------------------------


@pytest.fixture
def tls_server(tmp_path):
    """A TLS server with a self-signed certificate for news.example; it records the SNI it receives."""
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=news.example",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    names: list[str | None] = []
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve():
        conn, _ = listener.accept()
        with contextlib.suppress(OSError), conn, context.wrap_socket(conn, server_side=True):
            pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1], names
    listener.close()


def test_https_pins_address_sends_sni_and_verifies_certificate(tls_server, monkeypatch):
    port, names = tls_server
    monkeypatch.setattr(
        fetch, "_open_socket", lambda address, _port, timeout: socket.create_connection(("127.0.0.1", port), timeout)
    )
    with pytest.raises(FetchError, match="certificate of news.example is not valid"):
        get("https://news.example/article", allow_private=False, resolver=fake_dns({"news.example": [PUBLIC_IP]}))
    assert names == ["news.example"]
