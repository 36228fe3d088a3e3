"""Feeds and sitemaps read and polled over real HTTP on 127.0.0.1 (public names routed to it, guard on)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import feedparser
import pytest

from index.errors import FeedError
from index.feeds import article_for_item, html_to_text, parse_source
from index.feedxml import FeedScanner, without_items
from index.fetch import FetchedPage, fetch_url
from index.polling import FeedState, PollPolicy, PollResult, poll_feed
from tests.fakes.site import PUBLIC_IP, UA, Reply, Site, SiteHandler, fake_dns

from . import feed_docs as docs

NOW = datetime(2024, 2, 12, 12, 0, tzinfo=UTC)
DNS = fake_dns(
    {
        name: [PUBLIC_IP]
        for name in ("news.example", "www.news.example", "gazette.example", "atom.example", "rdf.example")
    }
    | {"intranet.example": ["10.20.30.40"]}
)
pytestmark = pytest.mark.usefixtures("public")


def fetch_feed(
    url: str, *, etag: str | None = None, last_modified: str | None = None, timeout: float = 3.0
) -> FetchedPage:
    """The fetcher the engine will bind: guard on (no private addresses), feed mode."""
    return fetch_url(
        url,
        timeout=timeout,
        max_bytes=3_000_000,
        user_agent=UA,
        resolver=DNS,
        feed=True,
        etag=etag,
        last_modified=last_modified,
    )


def fetch_page(url: str) -> FetchedPage:
    return fetch_url(url, timeout=3.0, max_bytes=1_000_000, user_agent=UA, resolver=DNS)


def poll(
    url: str,
    known: set[str] | None = None,
    state: FeedState | None = None,
    *,
    max_items: int = 200,
    max_children: int = 10,
) -> PollResult:
    known = set() if known is None else known
    return poll_feed(
        state or FeedState(url),
        fetch_feed,
        known.__contains__,
        now=NOW,
        policy=PollPolicy(max_items=max_items, max_children=max_children),
    )


# --- formats ---------------------------------------------------------------------------------------


def test_rss2_items_over_http(site: Site) -> None:
    site.routes["/feed.xml"] = Reply(
        docs.RSS2,
        "application/rss+xml; charset=utf-8",
        headers=[("ETag", '"r1"'), ("Last-Modified", "Sat, 10 Feb 2024 09:00:00 GMT")],
    )
    result = poll("http://news.example/feed.xml")
    assert result.error is None and not result.more
    first, second = result.items
    assert first.url == "http://news.example/2024/02/harbour"  # www, tracking parameters, slash dropped
    assert first.title == "Harbour reopens after storm" and first.authors == ("Ann Lee",)
    assert first.published == datetime(2024, 2, 10, 7, 30, tzinfo=UTC)
    assert first.outlet == "Coast News" and first.summary.startswith("The harbour reopened on Saturday")
    assert "Second paragraph." in first.summary and "<" not in first.summary and "track()" not in first.summary
    assert second.url == "http://news.example/2024/02/ferry" and second.title == "Ferry timetable & fares"
    state = result.state
    assert (state.title, state.etag, state.last_modified) == ("Coast News", '"r1"', "Sat, 10 Feb 2024 09:00:00 GMT")
    assert state.next_poll == NOW + timedelta(minutes=15) and state.consecutive_failures == 0
    assert site.requests[0].host == "news.example" and site.requests[0].headers["User-Agent"] == UA


def test_rss091_with_doctype_and_latin1(site: Site) -> None:
    site.routes["/rss091"] = Reply(docs.RSS091, "text/xml")
    result = poll("http://gazette.example/rss091")
    assert [item.title for item in result.items] == ["Café opens on Main Street", "Council meets"]
    assert result.items[0].summary == "A new café opened & drew a queue."
    assert result.state.title == "Valley Gazette"


def test_rss1_rdf_feed() -> None:
    parsed = parse_source(docs.RSS1, url="http://rdf.example/rss")
    assert [(i.url, i.title, i.published) for i in parsed.items] == [
        ("http://rdf.example/one", "One", datetime(2024, 2, 11, 9, 0, tzinfo=UTC))
    ]


def test_atom_alternate_links_authors_and_text_types(site: Site) -> None:
    site.routes["/feed.atom"] = Reply(docs.ATOM, "application/atom+xml")
    result = poll("http://atom.example/feed.atom")
    bridge, older = result.items
    assert bridge.url == "http://atom.example/bridge"  # rel=alternate, relative to the feed; not rel=self
    assert bridge.authors == ("Bo Chen", "Di Ray") and bridge.outlet == "Atom Post"
    assert bridge.published == datetime(2024, 2, 12, 7, 0, tzinfo=UTC)
    assert bridge.summary == "The bridge is closed.\n\nDetours are signed."
    assert older.summary == "1 < 2 is plain text" and older.published == datetime(2024, 1, 1, tzinfo=UTC)


def test_news_sitemap_titles_dates_and_outlet(site: Site) -> None:
    site.routes["/news-sitemap.xml"] = Reply(docs.NEWS_SITEMAP, "application/xml")
    result = poll("http://news.example/news-sitemap.xml")
    assert [(i.url, i.title, i.outlet) for i in result.items] == [
        ("https://news.example/newest-story", "Newest story", "Coast News"),  # not the image's title
        ("https://news.example/older-story", "Older story", "Coast News"),
    ]
    assert result.items[0].published == datetime(2024, 2, 10, 7, 30, tzinfo=UTC)


def test_plain_sitemap_newest_first_by_lastmod() -> None:
    parsed = parse_source(docs.PLAIN_SITEMAP, url="https://news.example/sitemap.xml")
    assert parsed.kind == "sitemap"
    assert [i.url.rsplit("/", 1)[1] for i in parsed.items] == ["b", "a", "c"]
    assert parsed.items[0].title is None and parsed.items[2].published is None


def test_sitemap_keeps_only_the_newest_within_the_cap() -> None:
    entries = "".join(
        f"<url><loc>https://news.example/s/{n}</loc><lastmod>2024-01-{1 + n % 28:02d}</lastmod></url>"
        for n in range(1000)
    )
    document = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'.encode()
    parsed = parse_source(
        document, url="https://news.example/sitemap.xml", max_items=10, known_url=lambda url: url.endswith("/s/27")
    )
    assert parsed.more and len(parsed.items) == 10
    assert {i.published for i in parsed.items} == {datetime(2024, 1, 28, tzinfo=UTC)}
    assert "https://news.example/s/27" not in {i.url for i in parsed.items}


def test_items_cut_out_exactly_so_the_rest_stays_well_formed() -> None:
    document = (
        b"<rss><channel><title>T</title><item><link>http://a.example/1</link></item >\n<item/>"
        b"<item><link>http://a.example/2</link></item></channel></rss>"
    )
    spans = FeedScanner(document, "http://a.example/").scan()
    assert [document[s.start : s.end] for s in spans] == [
        b"<item><link>http://a.example/1</link></item >",
        b"<item/>",
        b"<item><link>http://a.example/2</link></item>",
    ]
    assert [s.link for s in spans] == ["http://a.example/1", None, "http://a.example/2"]
    assert (
        without_items(document, spans, {2})
        == b"<rss><channel><title>T</title>\n<item><link>http://a.example/2</link></item></channel></rss>"
    )


def test_known_items_do_not_use_up_the_cap() -> None:
    parsed = parse_source(
        docs.ATOM,
        url="http://atom.example/feed.atom",
        max_items=1,
        known_url=lambda url: url == "http://atom.example/bridge",
    )
    assert [i.url for i in parsed.items] == ["http://atom.example/older"] and not parsed.more


def test_known_check_uses_the_link_feedparser_resolved() -> None:
    document = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title>'
        b'<entry xml:base="http://mirror.example/news/"><title>Based</title><link href="story"/></entry>'
        b'<entry><title>Plain</title><link href="http://atom.example/plain"/></entry></feed>'
    )
    parsed = parse_source(
        document, url="http://atom.example/feed.atom", known_url=lambda url: url == "http://mirror.example/news/story"
    )
    assert [i.title for i in parsed.items] == ["Plain"]


def test_html_to_text_keeps_blocks_apart() -> None:
    assert (
        html_to_text("<p>One<br>two</p><ul><li>a</li><li>b</li></ul>tail &amp; more")
        == "One\n\ntwo\n\na\n\nb\n\ntail & more"
    )
    assert html_to_text("<p>Text</p><script>track()</script><style>p { color: red }</style>") == "Text"


@pytest.mark.parametrize("encoding", ["shift_jis", "utf-16", "windows-1252"])
def test_declared_encodings_are_read(encoding: str) -> None:
    title = "日本のニュース" if encoding != "windows-1252" else "Déjà “vu”"
    text = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel><title>{title}</title>'
        f"<item><title>{title}</title><link>http://news.example/j</link></item></channel></rss>"
    )
    parsed = parse_source(text.encode(encoding), url="http://news.example/feed")
    assert parsed.title == title and parsed.items[0].title == title


def test_http_charset_wins_over_the_utf8_default() -> None:
    text = "<rss><channel><title>Καλημέρα</title></channel></rss>".encode("iso-8859-7")
    parsed = parse_source(text, url="http://n.example/f", content_type="text/xml; charset=ISO-8859-7")
    assert parsed.title == "Καλημέρα"


# --- bad documents: a clear FeedError, nothing returned ---------------------------------------------


@pytest.mark.parametrize(
    "document, message",
    [
        (docs.MALFORMED, r"not well-formed XML \(mismatched tag, line 1, column"),
        (docs.TRUNCATED, "not well-formed XML"),
        (docs.BILLION_LAUGHS, "declares the XML entity 'lol1'"),
        (docs.QUADRATIC_BLOWUP, "declares the XML entity 'big'"),
        (docs.EXTERNAL_ENTITY, "declares the XML entity 'secret'"),
        (docs.HTML_PAGE, "is an HTML page, not an RSS/Atom feed"),
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "with a <svg> root"),
        (b"", "no XML element|not well-formed"),
        (b"just some text", "not well-formed XML"),
    ],
)
def test_bad_documents_give_a_clear_error(document: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse_source(document, url="http://news.example/feed")


def test_billion_laughs_over_http_fails_the_poll_and_backs_off(site: Site) -> None:
    site.routes["/bomb"] = Reply(docs.BILLION_LAUGHS)
    result = poll("http://news.example/bomb")
    assert result.items == () and result.error is not None and "entity" in result.error
    assert result.state.consecutive_failures == 1 and result.state.last_error == result.error
    assert result.state.next_poll == NOW + timedelta(minutes=30)


def test_undefined_html_entities_are_tolerated() -> None:
    document = docs.rss2([("http://news.example/n", "Caf&eacute; &nbsp;news", "Sat, 10 Feb 2024 08:30:00 GMT")])
    assert parse_source(document, url="http://news.example/feed").items[0].title == "Café news"


def test_malformed_feed_over_http_is_reported(site: Site) -> None:
    site.routes["/broken"] = Reply(docs.MALFORMED)
    result = poll("http://news.example/broken")
    assert result.items == () and "mismatched tag" in (result.state.last_error or "")


# --- polling: conditional GET, changes, caps, faults --------------------------------------------------


def test_etag_and_last_modified_give_304_and_no_items(site: Site) -> None:
    def feed(handler: SiteHandler) -> None:
        if handler.headers.get("If-None-Match") == '"v1"':
            handler.reply(Reply(b"", "", 304, headers=[("ETag", '"v1"')]))
        else:
            handler.reply(
                Reply(docs.RSS2, headers=[("ETag", '"v1"'), ("Last-Modified", "Sat, 10 Feb 2024 09:00:00 GMT")])
            )

    site.routes["/feed.xml"] = feed
    first = poll("http://news.example/feed.xml")
    second = poll("http://news.example/feed.xml", state=first.state)
    assert second.not_modified and second.items == () and second.error is None
    assert site.requests[1].headers["If-None-Match"] == '"v1"'
    assert site.requests[1].headers["If-Modified-Since"] == "Sat, 10 Feb 2024 09:00:00 GMT"
    assert second.state.etag == '"v1"' and second.state.last_modified == "Sat, 10 Feb 2024 09:00:00 GMT"
    assert second.state.next_poll == NOW + timedelta(minutes=15)


def test_items_come_newest_first_whatever_the_feed_order() -> None:
    document = docs.rss2(
        [
            ("http://news.example/undated-1", "U1", ""),
            ("http://news.example/a", "A", "Fri, 09 Feb 2024 10:00:00 GMT"),
            ("http://news.example/c", "C", "Sun, 11 Feb 2024 10:00:00 GMT"),
            ("http://news.example/undated-2", "U2", ""),
            ("http://news.example/b", "B", "Sat, 10 Feb 2024 10:00:00 GMT"),
        ]
    )
    assert [i.title for i in parse_source(document, url="http://news.example/f").items] == ["C", "B", "A", "U1", "U2"]


def test_feed_that_changes_between_polls_gives_only_the_new_items(site: Site) -> None:
    a = ("http://news.example/a", "A", "Fri, 09 Feb 2024 10:00:00 GMT")
    b = ("http://news.example/b", "B", "Sat, 10 Feb 2024 10:00:00 GMT")
    c = ("http://news.example/c", "C", "Sun, 11 Feb 2024 10:00:00 GMT")
    site.routes["/feed.xml"] = Reply(docs.rss2([b, a]), headers=[("ETag", '"1"')])
    stored: set[str] = set()
    first = poll("http://news.example/feed.xml", stored)
    assert [i.title for i in first.items] == ["B", "A"]
    stored.update(i.url for i in first.items)
    site.routes["/feed.xml"] = Reply(docs.rss2([c, b, a]), headers=[("ETag", '"2"')])
    second = poll("http://news.example/feed.xml", stored, state=first.state.with_added(2))
    assert [i.title for i in second.items] == ["C"]
    assert second.state.etag == '"2"' and second.state.items_added == 2


def test_ten_thousand_items_capped_and_paged(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    start = datetime(2024, 2, 1, tzinfo=UTC)
    entries = [
        (
            f"http://news.example/n/{n}",
            f"Story {n}",
            (start - timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"),
        )
        for n in range(10_000)
    ]
    site.routes["/big.xml"] = Reply(docs.rss2(entries), headers=[("ETag", '"big"')])
    real_parse, parsed_entries = feedparser.parse, []

    def observed_parse(*args: object, **kwargs: object) -> feedparser.FeedParserDict:
        result = real_parse(*args, **kwargs)
        parsed_entries.append(len(result.entries))
        return result

    monkeypatch.setattr(feedparser, "parse", observed_parse)
    stored: set[str] = set()
    first = poll("http://news.example/big.xml", stored, max_items=200)
    assert len(first.items) == 200 and first.more and parsed_entries == [200]
    assert [i.title for i in first.items[:2]] == ["Story 0", "Story 1"]
    assert first.state.backlog and first.state.next_poll == NOW + timedelta(minutes=1)
    stored.update(i.url for i in first.items)

    second = poll("http://news.example/big.xml", stored, state=first.state, max_items=200)
    assert "If-None-Match" not in site.requests[1].headers  # a backlog is read unconditionally
    assert [i.title for i in second.items[:1]] == ["Story 200"] and len(second.items) == 200
    assert parsed_entries == [200, 200]


def test_redirect_loop_fails_the_poll(site: Site) -> None:
    site.routes["/loop"] = Reply(status=302, headers=[("Location", "/loop")])
    result = poll("http://news.example/loop")
    assert "Too many redirects" in (result.error or "") and result.state.consecutive_failures == 1


def test_feed_that_times_out_fails_the_poll(site: Site) -> None:
    site.routes["/slow"] = lambda handler: handler.site.stop.wait(10)
    result = poll_feed(
        FeedState("http://news.example/slow", consecutive_failures=2),
        lambda url, **kw: fetch_feed(url, timeout=0.3, **kw),
        lambda url: False,
        now=NOW,
    )
    assert result.error is not None and "timed out after 0.3 s" in result.error
    assert result.state.consecutive_failures == 3 and result.state.next_poll == NOW + timedelta(hours=2)


def test_private_feed_address_refused(site: Site) -> None:
    result = poll("http://intranet.example/feed.xml")
    assert "private or local address" in (result.error or "") and site.requests == []


# --- sitemap indexes ----------------------------------------------------------------------------------


def test_sitemap_index_reads_children_and_skips_unchanged_ones(site: Site) -> None:
    site.routes["/index.xml"] = Reply(
        docs.sitemap_index(("http://news.example/s1.xml", "2024-02-10"), ("/s2.xml", "2024-02-11T00:00:00Z")),
        "application/xml",
    )
    site.routes["/s1.xml"] = Reply(docs.urlset("https://news.example/one"), "application/xml")
    site.routes["/s2.xml"] = Reply(docs.urlset("https://news.example/two"), "application/xml")
    first = poll("http://news.example/index.xml")
    assert sorted(i.url for i in first.items) == ["https://news.example/one", "https://news.example/two"]
    assert site.paths() == ["/index.xml", "/s2.xml", "/s1.xml"]  # newest child first
    assert first.error is None and first.warnings == ()

    site.routes["/index.xml"] = Reply(
        docs.sitemap_index(("http://news.example/s1.xml", "2024-02-10"), ("/s2.xml", "2024-02-12T00:00:00Z")),
        "application/xml",
    )
    site.routes["/s2.xml"] = Reply(docs.urlset("https://news.example/two", "https://news.example/three"))
    second = poll("http://news.example/index.xml", {"https://news.example/two"}, state=first.state)
    assert [i.url for i in second.items] == ["https://news.example/three"]
    assert site.paths()[3:] == ["/index.xml", "/s2.xml"]  # s1 unchanged: not fetched again


def test_sitemap_index_pointing_at_itself_is_an_error(site: Site) -> None:
    site.routes["/self.xml"] = Reply(docs.sitemap_index(("http://www.news.example/self.xml/", None)))
    result = poll("http://news.example/self.xml")
    assert result.items == () and "a cycle" in (result.error or "")
    assert result.state.consecutive_failures == 1 and site.paths() == ["/self.xml"]


def test_sitemap_index_cycle_through_another_index(site: Site) -> None:
    site.routes["/a.xml"] = Reply(docs.sitemap_index(("http://news.example/b.xml", None)))
    site.routes["/b.xml"] = Reply(
        docs.sitemap_index(("http://news.example/a.xml", None), ("http://news.example/leaf.xml", None))
    )
    site.routes["/leaf.xml"] = Reply(docs.urlset("https://news.example/leaf-story"))
    result = poll("http://news.example/a.xml")
    assert [i.url for i in result.items] == ["https://news.example/leaf-story"]
    assert any("a cycle" in w for w in result.warnings)
    assert site.paths() == ["/a.xml", "/b.xml", "/leaf.xml"]


def test_sitemap_index_children_are_bounded(site: Site) -> None:
    children = [(f"http://news.example/c{n}.xml", f"2024-02-{n + 1:02d}") for n in range(25)]
    site.routes["/many.xml"] = Reply(docs.sitemap_index(*children))
    for n in range(25):
        site.routes[f"/c{n}.xml"] = Reply(docs.urlset(f"https://news.example/story-{n}"))
    result = poll("http://news.example/many.xml", max_children=5)
    assert len(site.requests) == 1 + 5 and result.more and result.state.backlog
    assert {i.url for i in result.items} == {f"https://news.example/story-{n}" for n in range(20, 25)}
    assert any("20 child sitemaps over the limit" in w for w in result.warnings)


def test_nested_sitemap_indexes_bounded_in_depth_and_in_fetches(site: Site) -> None:
    site.routes["/top.xml"] = Reply(docs.sitemap_index(("/mid1.xml", "2024-02-10"), ("/mid2.xml", "2024-02-09")))
    site.routes["/mid1.xml"] = Reply(docs.sitemap_index(*[(f"/leaf{n}.xml", None) for n in (1, 2, 3)]))
    site.routes["/mid2.xml"] = Reply(docs.sitemap_index(("/deep.xml", None)))
    site.routes["/deep.xml"] = Reply(docs.sitemap_index(("/leaf9.xml", None)))
    for n in (1, 2, 3, 9):
        site.routes[f"/leaf{n}.xml"] = Reply(docs.urlset(f"https://news.example/leaf-{n}"))
    deep = poll("http://news.example/top.xml", max_children=10)
    assert site.paths() == ["/top.xml", "/mid1.xml", "/mid2.xml", "/leaf1.xml", "/leaf2.xml", "/leaf3.xml", "/deep.xml"]
    assert len(deep.items) == 3 and any("nested too deep" in w for w in deep.warnings)
    site.requests.clear()
    bounded = poll("http://news.example/top.xml", max_children=3)
    assert site.paths() == ["/top.xml", "/mid1.xml", "/mid2.xml", "/leaf1.xml"]
    assert bounded.more and [i.url for i in bounded.items] == ["https://news.example/leaf-1"]


def test_sitemap_index_whose_children_all_fail_is_an_error(site: Site) -> None:
    site.routes["/index.xml"] = Reply(docs.sitemap_index(("http://news.example/gone.xml", None)))
    result = poll("http://news.example/index.xml")
    assert "Nothing could be read" in (result.error or "") and "404" in (result.error or "")


# --- items become articles ------------------------------------------------------------------------

ARTICLE_PAGE = (
    "<html><head><title>Harbour reopens - Coast News</title>"
    '<meta property="og:title" content="Harbour reopens after storm"></head><body><article>'
    f"<h1>Harbour reopens after storm</h1><p>{docs.STORY}</p></article></body></html>"
).encode()


def test_items_linking_to_private_addresses_are_refused_by_the_guard(site: Site) -> None:
    feed = docs.rss2(
        [
            ("http://10.1.2.3/admin", "Internal", "Sat, 10 Feb 2024 08:30:00 GMT"),
            ("http://intranet.example/secret", "Intranet", "Sat, 10 Feb 2024 08:00:00 GMT"),
        ]
    )
    items = parse_source(feed, url="http://news.example/feed").items
    long_text = [item.__class__(**{**item.__dict__, "summary": docs.STORY}) for item in items]
    for item in long_text:  # even with text enough to stand in, a refused link stores nothing
        outcome = article_for_item(item, fetch_page, max_bytes=100_000)
        assert outcome.article is None and "private or local address" in (outcome.error or "")
    assert site.requests == []


def test_item_article_from_its_page(site: Site) -> None:
    site.routes["/story"] = Reply(ARTICLE_PAGE, "text/html; charset=utf-8")
    item = parse_source(
        docs.rss2([("http://news.example/story", "Feed title", "Sat, 10 Feb 2024 08:30:00 GMT")]),
        url="http://news.example/feed",
    ).items[0]
    outcome = article_for_item(item, fetch_page, max_bytes=100_000)
    assert outcome.source == "page" and outcome.article is not None and outcome.error is None
    assert outcome.article.title == "Harbour reopens after storm" and "sea wall" in outcome.article.body
    assert outcome.article.published == date(2024, 2, 10)  # from the feed: the page has no date
    assert outcome.article.authors == ("Ann Lee",) and outcome.article.outlet == "Coast News"


def test_item_falls_back_on_feed_text_only_when_long_enough(site: Site) -> None:
    items = parse_source(docs.RSS2, url="http://news.example/feed.xml").items  # pages are 404 on the server
    full = article_for_item(items[0], fetch_page, max_bytes=100_000)
    assert full.source == "feed" and full.article is not None and "404" in (full.error or "")
    assert full.article.body.startswith("The harbour reopened") and full.article.url == items[0].url
    assert full.article.published == date(2024, 2, 10) and full.article.outlet == "Coast News"
    teaser = article_for_item(items[1], fetch_page, max_bytes=100_000)
    assert teaser.article is None and teaser.source is None and "404" in (teaser.error or "")
