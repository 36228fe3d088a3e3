"""Safe URL fetching: public addresses only, pinned connections, a total deadline and a size cap."""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import SplitResult, quote, urljoin, urlsplit

from .articles import human_size
from .errors import ArticleTooLarge, BlockedURL, FetchError, UnsupportedFormat

ACCEPTED_TYPES = {"text/html", "application/xhtml+xml", "text/plain", "text/markdown", "application/pdf"}
MAX_REDIRECTS = 5
_REDIRECT_STATUSES = {301, 302, 303, 307, 308}
_ACCEPT = "text/html,application/xhtml+xml,application/pdf;q=0.9,text/markdown;q=0.9,text/plain;q=0.8"
Resolver = Callable[[str, int], list[str]]


@dataclass(frozen=True)
class FetchedPage:
    """A fetched body, with the final URL (after redirects) and the server's Content-Type."""

    url: str
    content_type: str
    data: bytes


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
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_private or ip.is_loopback
                                 or ip.is_link_local or ip.is_unspecified)


def fetch_url(url: str, *, timeout: float, max_bytes: int, allow_private: bool = False, user_agent: str,
              resolver: Resolver = resolve_host) -> FetchedPage:
    """Fetch an http(s) URL, following up to 5 redirects, each hop's addresses vetted and pinned."""
    deadline = time.monotonic() + timeout
    for _ in range(MAX_REDIRECTS + 1):
        parts = _check_url(url)
        addresses = _vet_host(parts, allow_private, resolver)
        if time.monotonic() >= deadline:
            raise _timed_out(url, timeout)
        result = _request(url, parts, addresses, deadline=deadline, timeout=timeout,
                          max_bytes=max_bytes, user_agent=user_agent)
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
        parts.port
    except ValueError:
        raise FetchError("The URL has an invalid port.") from None
    return parts


def _vet_host(parts: SplitResult, allow_private: bool, resolver: Resolver) -> list[str]:
    host = parts.hostname or ""
    try:
        addresses = [host] if _is_ip_literal(host) else resolver(_ascii_host(host), _port(parts))
    except (OSError, UnicodeError):
        raise FetchError(f"Could not find the host {host!r} (DNS lookup failed).") from None
    if not addresses:
        raise FetchError(f"Could not find the host {host!r}.")
    if not allow_private:
        for address in addresses:
            if not is_public_address(address):
                raise BlockedURL(f"{host} points at a private or local address ({address}); that is refused.")
    return addresses


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
        super().__init__(_ascii_host(parts.hostname or ""), _port(parts), timeout=max(deadline - time.monotonic(), 0.01))
        self.addresses, self.deadline = addresses, deadline

    def connect(self) -> None:
        for number, address in enumerate(self.addresses, 1):
            try:
                self.sock = _open_socket(address, self.port, self.timeout)
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


def _request(url: str, parts: SplitResult, addresses: list[str], *, deadline: float, timeout: float,
             max_bytes: int, user_agent: str) -> FetchedPage | str:
    """One GET; returns the page, or the next URL when the server redirects."""
    conn = _PinnedConnection(parts, addresses, deadline)
    watchdog = _Watchdog(conn, deadline - time.monotonic())
    target = quote((parts.path or "/") + ("?" + parts.query if parts.query else ""), safe="/%?=&:@!$'()*+,;~[]")
    try:
        conn.request("GET", target, headers={"User-Agent": user_agent, "Accept": _ACCEPT,
                                             "Accept-Encoding": "identity", "Connection": "close"})
        response = conn.getresponse()
        result = _handle(url, response, max_bytes)
        if watchdog.fired.is_set():
            raise TimeoutError
        return result
    except (OSError, http.client.HTTPException, FetchError) as exc:
        if watchdog.fired.is_set() or isinstance(exc, TimeoutError):
            raise _timed_out(url, timeout) from None
        if isinstance(exc, FetchError):
            raise
        raise FetchError(_friendly(parts.hostname or "", exc)) from None
    finally:
        watchdog.timer.cancel()
        conn.close()


def _handle(url: str, response: http.client.HTTPResponse, max_bytes: int) -> FetchedPage | str:
    status = response.status
    if status in _REDIRECT_STATUSES:
        location = response.getheader("Location")
        if not location:
            raise FetchError(f"The server redirected (HTTP {status}) without saying where to.")
        return urljoin(url, location.strip())
    if status >= 400:
        raise FetchError(f"The server answered HTTP {status} {response.reason} for {url}.")
    if status >= 300 or status == 204:
        raise FetchError(f"The server answered HTTP {status} {response.reason} for {url}; no page to read.")
    content_type = response.getheader("Content-Type", "").strip()
    mime = content_type.split(";")[0].strip().lower()
    if mime and mime not in ACCEPTED_TYPES:
        raise UnsupportedFormat(f"The URL serves {mime}, not a web page, text or PDF.")
    if response.getheader("Content-Encoding", "identity").strip().lower() not in ("", "identity"):
        raise UnsupportedFormat("The server sent compressed content, which is not supported.")
    length = response.getheader("Content-Length", "").strip()
    if length.isdigit() and int(length) > max_bytes:
        raise ArticleTooLarge(f"The page is {human_size(int(length))}; the limit is {human_size(max_bytes)}.")
    data = _read_capped(response, max_bytes)
    if length.isdigit() and len(data) < int(length):
        raise FetchError("The server closed the connection before sending the whole page.")
    return FetchedPage(url=url, content_type=content_type, data=data)


def _read_capped(response: http.client.HTTPResponse, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while chunk := response.read1(65536):
        total += len(chunk)
        if total > max_bytes:
            raise ArticleTooLarge(f"The page is over the limit of {human_size(max_bytes)}.")
        chunks.append(chunk)
    return b"".join(chunks)


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
