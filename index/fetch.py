"""Safe URL fetching: public addresses only, pinned connections, a total deadline and a size cap."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import re
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from .articles import human_size
from .errors import ArticleTooLarge, BlockedURL, FetchError, UnsupportedFormat

ACCEPTED_TYPES = {"text/html", "application/xhtml+xml", "text/plain", "text/markdown", "application/pdf"}
FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/rdf+xml",
    "application/x-rss+xml",
    "application/xml",
    "text/xml",
    "text/plain",
}
_GZIP_TYPES = {"application/gzip", "application/x-gzip"}  # a sitemap.xml.gz served as a file
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/markdown;q=0.9,text/plain;q=0.8"
_FEED_ACCEPT = "application/rss+xml,application/atom+xml,application/xml;q=0.9,text/xml;q=0.9,*/*;q=0.1"
_MAX_VALIDATOR_CHARS = 512
_DNS_SLOTS = threading.BoundedSemaphore(16)  # lookups still running (a resolver cannot be cancelled) at most
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchedPage:
    """A fetched body, with the final URL (after redirects), the server's Content-Type and its cache validators.

    not_modified: the server answered 304 to a conditional request (data is empty)."""

    url: str
    content_type: str
    data: bytes
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = False


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host name resolves to (the default resolver)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def is_public_address(address: str) -> bool:
    """True for a globally routable unicast address (IPv4 embedded in IPv6 is checked too)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and not is_public_address(str(embedded)):
            return False
    return ip.is_global and not (
        ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_unspecified
    )


@dataclass(frozen=True)
class _Options:
    """What one fetch asks for, the same on every redirect hop."""

    deadline: float
    timeout: float
    max_bytes: int
    user_agent: str
    feed: bool
    etag: str | None
    last_modified: str | None


def fetch_url(
    url: str,
    *,
    timeout: float,
    max_bytes: int,
    allow_private: bool = False,
    user_agent: str,
    resolver: Resolver = resolve_host,
    feed: bool = False,
    etag: str | None = None,
    last_modified: str | None = None,
) -> FetchedPage:
    """Fetch an http(s) URL, following up to 5 redirects, each hop's addresses vetted and pinned.

    feed=True accepts feed and sitemap types (XML, gzip within max_bytes once decompressed) instead of pages;
    etag / last_modified make the request conditional (a 304 gives a result with not_modified=True)."""
    options = _Options(
        deadline=time.monotonic() + timeout,
        timeout=timeout,
        max_bytes=max_bytes,
        user_agent=user_agent,
        feed=feed,
        etag=_validator(etag),
        last_modified=_validator(last_modified),
    )
    for _ in range(MAX_REDIRECTS + 1):
        parts = _check_url(url)
        addresses = _vet_host(url, parts, allow_private, resolver, options)
        if time.monotonic() >= options.deadline:
            raise _timed_out(url, timeout)
        result = _request(url, parts, addresses, options)
        if isinstance(result, FetchedPage):
            return result
        url = result
    raise FetchError(f"Too many redirects (more than {MAX_REDIRECTS}).")


def _open_socket(address: str, port: int, timeout: float) -> socket.socket:
    """Open a TCP connection to one vetted address (tests replace this to reach a local server)."""
    return socket.create_connection((address, port), timeout=timeout)


def _check_url(url: str) -> SplitResult:
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https"):
        raise BlockedURL(f"Only http and https URLs can be fetched, not {parts.scheme or 'a URL without a scheme'}.")
    if parts.username is not None or parts.password is not None:
        raise BlockedURL("URLs with a user name or password are refused.")
    if not parts.hostname:
        raise FetchError("The URL has no host name.")
    try:
        _ = parts.port  # urllib checks the port only when it is read
    except ValueError:
        raise FetchError("The URL has an invalid port.") from None
    return parts


def _vet_host(url: str, parts: SplitResult, allow_private: bool, resolver: Resolver, options: _Options) -> list[str]:
    host = parts.hostname or ""
    try:
        addresses = (
            [host] if _is_ip_literal(host) else _resolve_by(resolver, _ascii_host(host), _port(parts), url, options)
        )
    except (OSError, UnicodeError):
        raise FetchError(f"Could not find the host {host!r} (DNS lookup failed).") from None
    if not addresses:
        raise FetchError(f"Could not find the host {host!r}.")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise BlockedURL(f"{host} points at a private or local address ({address}); that is refused.")
    return addresses


def _resolve_by(resolver: Resolver, host: str, port: int, url: str, options: _Options) -> list[str]:
    """Run the resolver in a daemon thread, so a slow DNS answer cannot outlast the fetch's deadline."""
    if not _DNS_SLOTS.acquire(timeout=max(options.deadline - time.monotonic(), 0.0)):
        raise _timed_out(url, options.timeout)
    outcome: list[list[str] | BaseException] = []
    done = threading.Event()

    def lookup() -> None:
        try:
            outcome.append(resolver(host, port))
        except BaseException as exc:  # handed to the caller below
            outcome.append(exc)
        finally:
            _DNS_SLOTS.release()
            done.set()

    threading.Thread(target=lookup, name="newsdesk-dns", daemon=True).start()
    if not done.wait(max(options.deadline - time.monotonic(), 0.0)):
        raise _timed_out(url, options.timeout)
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ascii_host(host: str) -> str:
    return host if host.isascii() else host.encode("idna").decode("ascii")


def _port(parts: SplitResult) -> int:
    return parts.port or (443 if parts.scheme.lower() == "https" else 80)


class _PinnedConnection(http.client.HTTPConnection):
    """HTTP(S) to already vetted addresses, with the URL's host in the Host header and for TLS (SNI)."""

    def __init__(self, parts: SplitResult, addresses: list[str], deadline: float):
        self.tls = parts.scheme.lower() == "https"
        self.default_port = 443 if self.tls else 80
        super().__init__(
            _ascii_host(parts.hostname or ""), _port(parts), timeout=max(deadline - time.monotonic(), 0.01)
        )
        self.addresses, self.deadline = addresses, deadline

    def connect(self) -> None:
        for number, address in enumerate(self.addresses, 1):
            try:
                self.sock = _open_socket(address, self.port, self.timeout or 0.01)
                break
            except OSError:
                if number == len(self.addresses):
                    raise
        if self.tls:
            self.sock = ssl.create_default_context().wrap_socket(self.sock, server_hostname=self.host)
        if time.monotonic() >= self.deadline:
            raise TimeoutError


class _Watchdog:
    """Shuts the socket down at the deadline, so a server that trickles bytes cannot hold us."""

    def __init__(self, conn: http.client.HTTPConnection, seconds: float):
        self.conn, self.fired = conn, threading.Event()
        self.timer = threading.Timer(max(seconds, 0.0), self._fire)
        self.timer.daemon = True
        self.timer.start()

    def _fire(self) -> None:
        self.fired.set()
        if self.conn.sock is not None:
            with contextlib.suppress(OSError):
                socket.socket.shutdown(self.conn.sock, socket.SHUT_RDWR)


def _request(url: str, parts: SplitResult, addresses: list[str], options: _Options) -> FetchedPage | str:
    """One GET; returns the page, or the next URL when the server redirects."""
    conn = _PinnedConnection(parts, addresses, options.deadline)
    watchdog = _Watchdog(conn, options.deadline - time.monotonic())
    target = quote((parts.path or "/") + ("?" + parts.query if parts.query else ""), safe="/%?=&:@!$'()*+,;~[]")
    headers = {
        "User-Agent": options.user_agent,
        "Accept": _FEED_ACCEPT if options.feed else _ACCEPT,
        "Accept-Encoding": "gzip" if options.feed else "identity",
        "Connection": "close",
    }
    if options.etag:
        headers["If-None-Match"] = options.etag
    if options.last_modified:
        headers["If-Modified-Since"] = options.last_modified
    try:
        conn.request("GET", target, headers=headers)
        response = conn.getresponse()
        result = _handle(url, response, options)
        if watchdog.fired.is_set():
            raise TimeoutError
        return result
    except (OSError, http.client.HTTPException, FetchError) as exc:
        if watchdog.fired.is_set() or isinstance(exc, TimeoutError):
            raise _timed_out(url, options.timeout) from None
        if isinstance(exc, FetchError):
            raise
        raise FetchError(_friendly(parts.hostname or "", exc)) from None
    finally:
        watchdog.timer.cancel()
        conn.close()


def _handle(url: str, response: http.client.HTTPResponse, options: _Options) -> FetchedPage | str:
    status = response.status
    if status in _REDIRECT_STATUSES:
        location = response.getheader("Location")
        if not location:
            raise FetchError(f"The server redirected (HTTP {status}) without saying where to.")
        return urljoin(url, location.strip())
    if status == 304 and (options.etag or options.last_modified):
        return FetchedPage(
            url=url,
            content_type="",
            data=b"",
            not_modified=True,
            etag=_validator(response.getheader("ETag")) or options.etag,
            last_modified=_validator(response.getheader("Last-Modified")) or options.last_modified,
        )
    if status >= 400:
        raise FetchError(f"The server answered HTTP {status} {response.reason} for {url}.")
    if status >= 300 or status == 204:
        raise FetchError(f"The server answered HTTP {status} {response.reason} for {url}; no page to read.")
    content_type = response.getheader("Content-Type", "").strip()
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in (FEED_TYPES | _GZIP_TYPES if options.feed else ACCEPTED_TYPES):
        raise UnsupportedFormat(
            f"The URL serves {mime}, not a feed or sitemap."
            if options.feed
            else f"The URL serves {mime}, not a web page, text or PDF."
        )
    gzipped = _gzipped(response, mime, options.feed)
    length = _content_length(response)
    if length is not None and length > options.max_bytes:
        raise ArticleTooLarge(f"The page is {human_size(length)}; the limit is {human_size(options.max_bytes)}.")
    data, received = _read_body(response, options.max_bytes, gzipped)
    if length is not None and received < length:
        raise FetchError("The server closed the connection before sending the whole page.")
    return FetchedPage(
        url=url,
        content_type=content_type,
        data=data,
        etag=_validator(response.getheader("ETag")),
        last_modified=_validator(response.getheader("Last-Modified")),
    )


def _gzipped(response: http.client.HTTPResponse, mime: str, feed: bool) -> bool:
    """Whether the body is gzip to inflate; other encodings, and gzip for pages, are refused."""
    encoding = response.getheader("Content-Encoding", "identity").strip().lower()
    if encoding in ("", "identity"):
        return feed and mime in _GZIP_TYPES
    if feed and encoding in ("gzip", "x-gzip"):
        return True
    raise UnsupportedFormat("The server sent compressed content, which is not supported.")


def _content_length(response: http.client.HTTPResponse) -> int | None:
    """The declared body size; a length that is not one plain number is a bad response."""
    values = {part.strip() for header in response.msg.get_all("Content-Length") or [] for part in header.split(",")}
    if not values:
        return None
    if len(values) > 1 or not re.fullmatch(r"[0-9]+", next(iter(values))):
        shown = ", ".join(sorted(values))[:80]
        raise FetchError(f"The server sent an invalid Content-Length ({shown!r}); the response was refused.")
    return int(values.pop())


def _read_body(response: http.client.HTTPResponse, max_bytes: int, gzipped: bool) -> tuple[bytes, int]:
    """The body (inflated when gzipped) and the bytes received; both are held to max_bytes while streaming."""
    chunks: list[bytes] = []
    received = size = 0
    inflater = zlib.decompressobj(wbits=31) if gzipped else None
    pending = False  # a gzip member has begun and not ended
    while chunk := response.read1(65536):
        received += len(chunk)
        if received > max_bytes:
            raise ArticleTooLarge(f"The page is over the limit of {human_size(max_bytes)}.")
        if inflater is None:
            chunks.append(chunk)
        while inflater is not None and chunk:
            try:
                piece = inflater.decompress(chunk, max_bytes + 1 - size)
            except zlib.error:
                raise FetchError("The server sent damaged compressed (gzip) content.") from None
            size += len(piece)
            if size > max_bytes:
                raise ArticleTooLarge(f"Decompressed, the content is over the limit of {human_size(max_bytes)}.")
            chunks.append(piece)
            pending, chunk = not inflater.eof, inflater.unconsumed_tail
            if inflater.eof:  # a gzip file may hold several members one after another
                chunk, inflater = inflater.unused_data, zlib.decompressobj(wbits=31)
    if pending:
        raise FetchError("The compressed (gzip) content ended early.")
    return b"".join(chunks), received


def _validator(value: str | None) -> str | None:
    """An ETag or Last-Modified value worth keeping and sending back: short, printable ASCII."""
    value = (value or "").strip()
    if not value or len(value) > _MAX_VALIDATOR_CHARS or not all(" " <= ch <= "~" for ch in value):
        return None
    return value


def _timed_out(url: str, timeout: float) -> FetchError:
    return FetchError(f"Fetching {url} timed out after {timeout:g} s.")


def _friendly(host: str, exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return f"{host} refused the connection."
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"The TLS certificate of {host} is not valid ({exc.verify_message})."
    if isinstance(exc, ssl.SSLError):
        return f"The secure connection to {host} failed ({exc.reason})."
    if isinstance(exc, http.client.HTTPException):
        return f"{host} sent an invalid HTTP response ({type(exc).__name__})."
    return f"Could not reach {host} ({getattr(exc, 'strerror', None) or exc})."
