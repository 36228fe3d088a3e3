"""Fetch hardening and the feed mode (issue 11 and 14) against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import threading

import pytest

from index.errors import ArticleTooLarge, FetchError, UnsupportedFormat
from index.fetch import FetchedPage, fetch_url
from tests.fakes.site import UA, Reply, Site, SiteHandler

RSS = b'<?xml version="1.0"?><rss version="2.0"><channel><title>Coast News</title></channel></rss>'


def get(url: str, **kwargs: object) -> FetchedPage:
    options: dict = {"timeout": 3.0, "max_bytes": 20_000, "allow_private": True, "user_agent": UA}
    return fetch_url(url, **{**options, **kwargs})


# --- Content-Length that lies -----------------------------------------------------------------------


@pytest.mark.parametrize("lengths", [["-5"], ["abc"], ["12", "40"], ["12, 40"], [""], ["+12"], ["1e3"]])
def test_lying_content_length_is_a_bad_response(site: Site, lengths: list[str]) -> None:
    site.routes["/page"] = Reply(b"<p>hello</p>", "text/html", headers=[("Content-Length", v) for v in lengths])
    with pytest.raises(FetchError, match="invalid Content-Length"):
        get(site.base + "/page")


def test_repeated_identical_content_length_is_accepted(site: Site) -> None:
    body = b"<p>hello there</p>"
    site.routes["/page"] = Reply(body, "text/html", headers=[("Content-Length", str(len(body)))] * 2)
    assert get(site.base + "/page").data == body


# --- slow DNS inside the deadline --------------------------------------------------------------------


def test_slow_dns_answer_is_cut_by_the_total_deadline() -> None:
    release, finished = threading.Event(), threading.Event()

    def slow_resolver(host: str, port: int) -> list[str]:
        release.wait(8)  # an 8 s DNS answer; the test releases it once the fetch has given up
        finished.set()
        return ["127.0.0.1"]

    try:
        with pytest.raises(FetchError, match="timed out after 0.3 s"):
            get("http://slow-dns.example/page", timeout=0.3, resolver=slow_resolver)
        assert not finished.is_set(), "the fetch waited for the resolver instead of its deadline"
    finally:
        release.set()


def test_resolver_errors_still_reported(site: Site) -> None:
    def failing(host: str, port: int) -> list[str]:
        raise OSError("no answer")

    with pytest.raises(FetchError, match="DNS lookup failed"):
        get("http://nowhere.example/", resolver=failing)


# --- conditional GET ---------------------------------------------------------------------------------


def conditional_feed(handler: SiteHandler) -> None:
    """Answers 304 when the client already holds version v1 (by ETag or by date)."""
    if (
        handler.headers.get("If-None-Match") == '"v1"'
        or handler.headers.get("If-Modified-Since") == "Sat, 10 Feb 2024 08:30:00 GMT"
    ):
        handler.reply(Reply(b"", "", 304, headers=[("ETag", '"v1"')]))
    else:
        handler.reply(Reply(RSS, headers=[("ETag", '"v1"'), ("Last-Modified", "Sat, 10 Feb 2024 08:30:00 GMT")]))


def test_validators_returned_and_304_is_not_modified(site: Site) -> None:
    site.routes["/feed"] = conditional_feed
    first = get(site.base + "/feed", feed=True)
    assert first.data == RSS and not first.not_modified
    assert (first.etag, first.last_modified) == ('"v1"', "Sat, 10 Feb 2024 08:30:00 GMT")
    assert "If-None-Match" not in site.requests[0].headers

    again = get(site.base + "/feed", feed=True, etag=first.etag, last_modified=first.last_modified)
    assert again.not_modified and again.data == b""
    assert (again.etag, again.last_modified) == ('"v1"', "Sat, 10 Feb 2024 08:30:00 GMT")
    sent = site.requests[1].headers
    assert sent["If-None-Match"] == '"v1"' and sent["If-Modified-Since"] == "Sat, 10 Feb 2024 08:30:00 GMT"

    by_date = get(site.base + "/feed", feed=True, last_modified="Sat, 10 Feb 2024 08:30:00 GMT")
    assert by_date.not_modified and "If-None-Match" not in site.requests[2].headers


def test_304_without_a_conditional_request_is_an_error(site: Site) -> None:
    site.routes["/feed"] = Reply(b"", "", 304)
    with pytest.raises(FetchError, match="HTTP 304"):
        get(site.base + "/feed", feed=True)


def test_unusable_validators_are_not_sent(site: Site) -> None:
    site.routes["/feed"] = Reply(RSS, headers=[("ETag", "x" * 600)])
    assert get(site.base + "/feed", feed=True).etag is None
    get(site.base + "/feed", feed=True, etag="bad\u00e9value")
    assert "If-None-Match" not in site.requests[1].headers


# --- feed content types and Accept --------------------------------------------------------------------


@pytest.mark.parametrize(
    "mime", ["application/rss+xml", "application/atom+xml", "application/xml", "text/xml", "application/rdf+xml"]
)
def test_feed_types_accepted_only_in_feed_mode(site: Site, mime: str) -> None:
    site.routes["/feed"] = Reply(RSS, f"{mime}; charset=utf-8")
    page = get(site.base + "/feed", feed=True)
    assert page.data == RSS and page.content_type.startswith(mime)
    assert "application/rss+xml" in site.requests[0].headers["Accept"]
    with pytest.raises(UnsupportedFormat, match=mime.replace("+", r"\+")):
        get(site.base + "/feed")


def test_feed_mode_refuses_pages_and_images(site: Site) -> None:
    site.routes["/page"] = Reply(b"<html></html>", "text/html")
    site.routes["/image"] = Reply(b"\x89PNG", "image/png")
    for path in ("/page", "/image"):
        with pytest.raises(UnsupportedFormat, match="not a feed or sitemap"):
            get(site.base + path, feed=True)


def test_redirect_loop_stops_in_feed_mode(site: Site) -> None:
    site.routes["/loop"] = Reply(status=302, headers=[("Location", "/loop")])
    with pytest.raises(FetchError, match="Too many redirects"):
        get(site.base + "/loop", feed=True)


# --- gzip for feeds, capped on the decompressed size ---------------------------------------------------


def test_gzip_feed_is_inflated(site: Site) -> None:
    site.routes["/feed"] = Reply(gzip.compress(RSS), headers=[("Content-Encoding", "gzip")])
    assert get(site.base + "/feed", feed=True).data == RSS
    assert site.requests[0].headers["Accept-Encoding"] == "gzip"


def test_gzip_file_sitemap_is_inflated(site: Site) -> None:
    site.routes["/sitemap.xml.gz"] = Reply(gzip.compress(RSS) + gzip.compress(RSS), "application/x-gzip")
    assert get(site.base + "/sitemap.xml.gz", feed=True).data == RSS + RSS


def test_gzip_bomb_stopped_on_decompressed_size(site: Site) -> None:
    bomb = gzip.compress(b"<rss>" + b" " * 5_000_000)  # about 5 KB that inflate to 5 MB
    assert len(bomb) < 20_000
    site.routes["/feed"] = Reply(bomb, headers=[("Content-Encoding", "gzip")])
    with pytest.raises(ArticleTooLarge, match="Decompressed, the content is over the limit of 20.0 KB"):
        get(site.base + "/feed", feed=True)


def test_truncated_or_damaged_gzip_refused(site: Site) -> None:
    packed = gzip.compress(RSS * 20)
    site.routes["/cut"] = Reply(packed[: len(packed) // 2], headers=[("Content-Encoding", "gzip")])
    site.routes["/junk"] = Reply(b"\x1f\x8bnot really gzip", headers=[("Content-Encoding", "gzip")])
    with pytest.raises(FetchError, match="ended early"):
        get(site.base + "/cut", feed=True)
    with pytest.raises(FetchError, match="damaged compressed"):
        get(site.base + "/junk", feed=True)


def test_pages_still_refuse_compression(site: Site) -> None:
    site.routes["/page"] = Reply(gzip.compress(b"<p>hi</p>"), "text/html", headers=[("Content-Encoding", "gzip")])
    with pytest.raises(UnsupportedFormat, match="compressed content"):
        get(site.base + "/page")
    assert site.requests[0].headers["Accept-Encoding"] == "identity"
    site.routes["/br"] = Reply(b"xx", headers=[("Content-Encoding", "br")])
    with pytest.raises(UnsupportedFormat, match="compressed content"):
        get(site.base + "/br", feed=True)


def test_gzip_bomb_never_inflated_beyond_the_cap_in_memory(site: Site) -> None:
    import tracemalloc

    bomb = gzip.compress(bytes(50_000_000), 9)  # about 50 KB that inflate to 50 MB
    site.routes["/feed"] = Reply(bomb, headers=[("Content-Encoding", "gzip")])
    tracemalloc.start()
    try:
        with pytest.raises(ArticleTooLarge, match="Decompressed"):
            get(site.base + "/feed", feed=True, max_bytes=100_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000, f"{peak} bytes held while inflating"
