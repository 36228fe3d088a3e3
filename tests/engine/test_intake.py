"""Live intake through the real engine: feeds on a real HTTP server on 127.0.0.1 that change between polls, their
items fetched, cleaned, embedded and cited; pages that change replace their article; bad sources refused."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index import BlockedURL, Engine, FeedError, FeedNotFound, FetchError, InvalidInput, Settings, url_article_id
from index import fetch as fetching
from tests.fakes.newsroom import Newsroom
from tests.fakes.site import PUBLIC_IP, Reply, Site, SiteHandler

from . import feed_docs as docs


@pytest.fixture
def newsdesk(tmp_path: Path, embed_model: object) -> Iterator[Engine]:
    """A real engine that may fetch from 127.0.0.1 (where the test sites are)."""
    engine = Engine(
        Settings(
            data_dir=tmp_path / "data", seeds_dir=tmp_path / "no-seeds", fetch_allow_private=True, fetch_timeout=2.0
        ),
        embed_model=embed_model,
    )  # type: ignore[arg-type]
    yield engine
    engine.close()


def article_paths(site: Site) -> list[str]:
    return [p for p in site.paths() if p.startswith("/news/")]


def test_feed_items_become_searchable_cited_articles_and_only_new_ones_are_fetched(
    newsdesk: Engine, site: Site
) -> None:
    room = Newsroom(site)
    harbour, _ = room.publish("harbour"), room.publish("library")
    feed = newsdesk.add_feed(room.feed_url)
    assert (feed.title, feed.items_added, feed.next_poll) == ("Harbour Gazette", 0, None)
    assert newsdesk.list_articles() == []  # following a feed reads it; its items come with the polls

    (report,) = newsdesk.poll_feeds()
    assert sorted(a.title for a in report.added) == [
        "Council approves new library on Mill Street",
        "Harbour at Port Elwin reopens after storm repairs",
    ]
    assert report.error is None and report.feed.items_added == 2 and report.feed.last_poll is not None
    answer = newsdesk.ask("When did the harbour at Port Elwin reopen after the storm?")
    cited = answer.citations[0].passage
    assert cited.url == harbour and cited.article_id == url_article_id(harbour) and cited.outlet == "Harbour Gazette"
    assert "Saturday" in answer.text

    room.publish("rail")
    site.requests.clear()
    (report,) = newsdesk.poll_feeds(every=True)
    assert [a.title for a in report.added] == ["Rail strike ends after drivers accept pay deal"]
    assert article_paths(site) == ["/news/rail"]  # items already stored are not fetched again

    site.requests.clear()
    (report,) = newsdesk.poll_feeds(every=True)
    assert report.not_modified and report.added == () and site.paths() == ["/feed.xml"]
    assert site.requests[0].headers.get("If-None-Match")  # a conditional GET: nothing else was done
    assert site.requests[0].headers["User-Agent"].startswith("NewsdeskBot/")
    assert newsdesk.list_feeds()[0].items_added == 3 and len(newsdesk.list_articles()) == 3


def test_only_due_feeds_are_polled(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("wildfire")
    newsdesk.add_feed(room.feed_url)
    start = datetime.now(UTC)
    assert len(newsdesk.poll_feeds(now=start)) == 1
    assert newsdesk.poll_feeds(now=start + timedelta(minutes=5)) == []  # the interval is 15 minutes
    assert len(newsdesk.poll_feeds(now=start + timedelta(minutes=16))) == 1


def test_changed_page_replaces_its_article_same_id_and_citation_says_updated(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    url = room.publish("harbour")
    old = room.publish("hospital", published=datetime.now(UTC) - timedelta(days=5))
    newsdesk.add_feed(room.feed_url)
    newsdesk.poll_feeds()
    article_id = url_article_id(url)
    before = newsdesk.get_article(article_id)

    site.requests.clear()
    unchanged = newsdesk.refresh_recent()
    assert unchanged.checked == 1 and unchanged.updated == () and unchanged.failed == ()  # the old one is left
    assert article_paths(site) == ["/news/harbour"] and site.requests[0].headers.get("If-None-Match")
    assert url_article_id(old) in {a.id for a in newsdesk.list_articles()}

    title, paragraphs = room.pages["harbour"].title, list(room.pages["harbour"].paragraphs)
    paragraphs[1] = "Engineers replaced sixty metres of the wall, which the storm had breached in three places."
    room.edit("harbour", paragraphs)
    report = newsdesk.refresh_recent()
    assert [a.id for a in report.updated] == [article_id] and len(newsdesk.list_articles()) == 2
    after = newsdesk.get_article(article_id)
    assert "sixty metres" in after.body and "forty metres" not in after.body and after.title == title
    assert after.published == before.published
    cited = newsdesk.ask("How many metres of the harbour wall did engineers replace?").citations[0].passage
    assert cited.article_id == article_id and "sixty" in cited.text
    assert cited.updated == datetime.now(UTC).date()
    assert newsdesk.refresh_recent(now=datetime.now(UTC) + timedelta(days=3)).checked == 0  # too old now


def test_an_article_added_by_url_is_followed_too(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    url = room.publish("library")
    added = newsdesk.add_url(url)
    room.edit("library", [*room.pages["library"].paragraphs, "The first stone will be laid by the mayor in May."])
    report = newsdesk.refresh_recent()
    assert [a.id for a in report.updated] == [added.article.id]
    assert "first stone" in newsdesk.get_article(added.article.id).body


def test_a_poll_and_a_refresh_together_send_one_request_at_a_time_to_a_host(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    for slug in ("harbour", "library", "rail"):
        room.publish(slug)
    newsdesk.add_feed(room.feed_url)
    newsdesk.poll_feeds()
    guard, in_flight, peak = threading.Lock(), [0], [0]

    def counted(route: Callable[[SiteHandler], object]) -> Callable[[SiteHandler], None]:
        def handler(h: SiteHandler) -> None:
            with guard:
                in_flight[0] += 1
                peak[0] = max(peak[0], in_flight[0])
            time.sleep(0.2)
            with guard:  # before the response goes out: the client may send its next request as soon as it has it
                in_flight[0] -= 1
            route(h)

        return handler

    site.routes.update({path: counted(route) for path, route in site.routes.items()})  # type: ignore[arg-type]
    site.requests.clear()
    polls = threading.Thread(target=lambda: [newsdesk.poll_feeds(every=True) for _ in range(3)])
    polls.start()
    newsdesk.refresh_recent()
    polls.join()
    assert len(site.requests) == 6 and peak == [1]


def test_redirecting_and_failing_items_are_not_fetched_at_every_poll(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    room.pages["harbour"].slug = "go-harbour"  # the feed links a redirect
    site.routes["/news/go-harbour"] = Reply(status=302, headers=[("Location", "/news/harbour")])
    room.publish("library")
    room.hidden.add("library")  # its page is gone: the item fails
    newsdesk.add_feed(room.feed_url)
    (report,) = newsdesk.poll_feeds()
    assert [a.url for a in report.added] == [room.url("harbour")]
    assert [f.url for f in report.failed] == [room.url("library")] and "404" in report.failed[0].error
    fetched = []
    for story in ("rail", "wildfire", "hospital"):  # the feed changes, so each poll reads it again
        room.publish(story)
        site.requests.clear()
        newsdesk.poll_feeds(every=True)
        fetched.append(article_paths(site))
    assert fetched == [["/news/rail", "/news/library"], ["/news/wildfire", "/news/library"], ["/news/hospital"]]
    assert newsdesk.list_feeds()[0].items_added == 4


def test_a_feed_of_ten_thousand_items_is_capped_and_paged(tmp_path: Path, embed_model: object, site: Site) -> None:
    start = datetime(2024, 2, 1, tzinfo=UTC)
    entries = [
        (f"{site.base}/n/{n}", f"Story {n}", (start - timedelta(minutes=n)).strftime("%a, %d %b %Y %H:%M:%S GMT"))
        for n in range(10_000)
    ]
    site.routes["/big.xml"] = Reply(docs.rss2(entries), headers=[("ETag", '"big"')])

    def page(handler: SiteHandler) -> None:
        n = handler.path.rsplit("/", 1)[1]
        handler.reply(
            Reply(
                f"<html><body><article><h1>Story {n}</h1><p>Report number {n} says that the "
                f"pier number {n} was painted blue by volunteers on a sunny day.</p></article></body>"
                "</html>".encode(),
                "text/html",
            )
        )

    site.routes.update({f"/n/{n}": page for n in range(10_000)})
    engine = Engine(
        Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "none", fetch_allow_private=True, feed_max_items=3),
        embed_model=embed_model,
    )  # type: ignore[arg-type]
    try:
        engine.add_feed(f"{site.base}/big.xml")
        now = datetime.now(UTC)
        (first,) = engine.poll_feeds(now=now)
        assert [a.title for a in first.added] == ["Story 0", "Story 1", "Story 2"] and first.more
        assert first.feed.next_poll == now + timedelta(minutes=1)  # the backlog is paged, a minute apart
        assert len([p for p in site.paths() if p.startswith("/n/")]) == 3
        (second,) = engine.poll_feeds(now=now + timedelta(minutes=2))
        assert [a.title for a in second.added] == ["Story 3", "Story 4", "Story 5"]
        assert len(engine.list_articles()) == 6
    finally:
        engine.close()


@pytest.mark.parametrize(
    "route, kind, message",
    [
        (Reply(docs.MALFORMED), FeedError, "not well-formed XML"),
        (Reply(docs.BILLION_LAUGHS), FeedError, "declares the XML entity"),
        (Reply(docs.HTML_PAGE, "text/html"), Exception, "not a feed or sitemap"),
        (Reply(status=302, headers=[("Location", "/bad")]), FetchError, "Too many redirects"),
        (lambda handler: handler.site.stop.wait(10), FetchError, "timed out after 2 s"),
        (Reply(docs.sitemap_index(("/bad", None))), FeedError, "a cycle"),
        (Reply(b"", status=404), FetchError, "HTTP 404"),
    ],
)
def test_a_bad_source_is_refused_clearly_and_nothing_is_stored(
    newsdesk: Engine, site: Site, route: object, kind: type, message: str
) -> None:
    site.routes["/bad"] = route  # type: ignore[assignment]
    with pytest.raises(kind, match=message):
        newsdesk.add_feed(f"{site.base}/bad")
    assert newsdesk.list_feeds() == [] and newsdesk.list_articles() == []


def test_a_feed_that_breaks_is_reported_backs_off_and_the_others_go_on(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    site.routes["/other.xml"] = Reply(docs.rss2([]))
    newsdesk.add_feed(f"{site.base}/other.xml")
    newsdesk.add_feed(room.feed_url)
    site.routes["/other.xml"] = Reply(docs.BILLION_LAUGHS)
    now = datetime.now(UTC)
    reports = {r.feed.url: r for r in newsdesk.poll_feeds(now=now)}
    broken = reports[f"{site.base}/other.xml"]
    assert broken.error is not None and "entity" in broken.error and broken.added == ()
    assert len(reports[room.feed_url].added) == 1
    listed = {f.url: f for f in newsdesk.list_feeds()}[f"{site.base}/other.xml"]
    assert listed.last_error == broken.error and listed.failures == 1
    assert listed.next_poll == now + timedelta(minutes=30)  # backing off: twice the interval


def test_item_links_to_private_addresses_are_refused_and_store_nothing(
    tmp_path: Path, embed_model: object, site: Site, public: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = {"news.example": [PUBLIC_IP], "intranet.example": ["10.20.30.40"]}

    def resolve(host: str, port: int) -> list[str]:
        if host not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return names[host]

    monkeypatch.setattr(fetching, "resolve_host", resolve)
    site.routes["/feed.xml"] = Reply(
        docs.rss2(
            [
                ("http://10.1.2.3/admin", "Internal", "Sat, 10 Feb 2024 08:30:00 GMT"),
                ("http://intranet.example/x", "Intranet", "Sat, 10 Feb 2024 08:00:00 GMT"),
            ]
        )
    )
    engine = Engine(Settings(data_dir=tmp_path / "data", seeds_dir=tmp_path / "none"), embed_model=embed_model)  # type: ignore[arg-type]
    try:
        with pytest.raises(BlockedURL, match="private or local address"):
            engine.add_feed("http://intranet.example/feed.xml")
        engine.add_feed("http://news.example/feed.xml")
        (report,) = engine.poll_feeds()
        assert report.added == () and len(report.failed) == 2
        assert all("private or local address" in f.error for f in report.failed)
        assert engine.list_articles() == [] and site.paths() == ["/feed.xml", "/feed.xml"]
    finally:
        engine.close()


def test_feeds_removed_by_id_or_url_and_duplicates_refused(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("rail")
    feed = newsdesk.add_feed(room.feed_url)
    with pytest.raises(InvalidInput, match="already followed"):
        newsdesk.add_feed(room.feed_url + "?utm_source=x")
    newsdesk.poll_feeds()
    assert newsdesk.remove_feed(str(feed.id)).url == room.feed_url
    assert newsdesk.list_feeds() == [] and len(newsdesk.list_articles()) == 1  # its articles stay
    newsdesk.add_feed(room.feed_url)
    assert newsdesk.remove_feed(room.feed_url).title == "Harbour Gazette"
    with pytest.raises(FeedNotFound):
        newsdesk.remove_feed(room.feed_url)
    with pytest.raises(FeedNotFound):
        newsdesk.remove_feed(42)
    with pytest.raises(InvalidInput, match="not a feed address"):
        newsdesk.add_feed("ftp://example.org/feed")
