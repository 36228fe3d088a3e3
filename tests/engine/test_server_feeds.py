"""Feeds belong to the server where they were added: what a feed brings in (polls, refreshes, cleaning again)
stays in the feed's corpus, a shared feed's articles are shared, and a server manages only its own feeds.
Imports go to one server's corpus too. Real engine, feeds on a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import gzip
import json
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from index import Article, Engine, FeedNotFound, Settings, url_article_id
from index.servers import scoped_article_id
from tests.fakes.newsroom import PROMO, STORIES, Newsroom
from tests.fakes.site import Site

HARBOUR = "When did the harbour at Port Elwin reopen after the storm?"


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


def ids(engine: Engine, server: str | None) -> set[str]:
    return {a.id for a in engine.list_articles(server=server)}


def cited(engine: Engine, question: str, server: str | None) -> set[str]:
    return {c.passage.article_id for c in engine.ask(question, server=server).citations}


def test_a_servers_feed_brings_articles_into_that_server_only(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    harbour = room.publish("harbour")
    feed = newsdesk.add_feed(room.feed_url, server="A")
    assert feed.server == "A"
    assert [f.id for f in newsdesk.list_feeds(server="A")] == [feed.id]
    assert newsdesk.list_feeds(server="B") == [] and newsdesk.list_feeds() == []

    (report,) = newsdesk.poll_feeds()
    own = scoped_article_id("A", url_article_id(harbour))
    assert [a.id for a in report.added] == [own]
    assert ids(newsdesk, "A") == {own} and ids(newsdesk, "B") == set() and ids(newsdesk, None) == set()
    assert own in cited(newsdesk, HARBOUR, "A")
    assert cited(newsdesk, HARBOUR, "B") == set()
    assert newsdesk.list_articles(server="A")[0].added_by == f"feed:{feed.id}"


def test_a_shared_feeds_articles_are_read_by_every_server(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    harbour = room.publish("harbour")
    feed = newsdesk.add_feed(room.feed_url)
    assert feed.server is None and [f.id for f in newsdesk.list_feeds(server="A")] == [feed.id]
    newsdesk.poll_feeds()
    shared = url_article_id(harbour)
    assert ids(newsdesk, None) == {shared} and ids(newsdesk, "A") == ids(newsdesk, "B") == {shared}
    assert shared in cited(newsdesk, HARBOUR, "B")


def test_a_server_manages_only_its_own_feeds_and_may_follow_one_another_follows(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    theirs = newsdesk.add_feed(room.feed_url, server="A")
    shared = newsdesk.add_feed(room.feed_url)
    for feed, server in (
        (theirs.id, "B"),
        (str(theirs.id), "B"),
        (room.feed_url, "B"),
        (theirs.id, None),
        (shared.id, "A"),
    ):
        with pytest.raises(FeedNotFound):
            newsdesk.remove_feed(feed, server=server)
    assert {f.id for f in newsdesk.list_feeds(server="A")} == {theirs.id, shared.id}

    mine = newsdesk.add_feed(room.feed_url, server="B")  # the same source, B's own
    newsdesk.poll_feeds()
    assert len(ids(newsdesk, "B") - ids(newsdesk, None)) == 1 and ids(newsdesk, "A") != ids(newsdesk, "B")
    assert newsdesk.remove_feed(room.feed_url, server="B").id == mine.id
    assert {f.id for f in newsdesk.list_feeds(server="A")} == {theirs.id, shared.id}


def test_a_feed_skips_only_pages_its_own_corpus_holds(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    harbour = room.publish("harbour")
    newsdesk.add_url(harbour, server="A")
    newsdesk.add_feed(room.feed_url, server="A")
    newsdesk.add_feed(room.feed_url, server="B")
    site.requests.clear()
    reports = {r.feed.server: r for r in newsdesk.poll_feeds()}
    assert reports["A"].added == () and [a.id for a in reports["B"].added] == [
        scoped_article_id("B", url_article_id(harbour))
    ]
    assert [p for p in site.paths() if p.startswith("/news/")] == ["/news/harbour"]  # fetched for B only


def test_a_refreshed_article_keeps_its_id_and_corpus(newsdesk: Engine, site: Site) -> None:
    room = Newsroom(site)
    room.publish("harbour")
    newsdesk.add_feed(room.feed_url, server="A")
    newsdesk.poll_feeds()
    before = ids(newsdesk, "A")
    paragraphs = list(room.pages["harbour"].paragraphs)
    paragraphs[1] = "Engineers replaced sixty metres of the wall, which the storm had breached in three places."
    room.edit("harbour", paragraphs)
    report = newsdesk.refresh_recent()
    assert {a.id for a in report.updated} == before
    assert ids(newsdesk, "A") == before and ids(newsdesk, None) == set() and ids(newsdesk, "B") == set()
    assert "sixty metres" in newsdesk.get_article(next(iter(before)), server="A").body


def story(slug: str) -> Article:
    title, paragraphs = STORIES[slug]
    return Article(
        title=title,
        body="\n".join([paragraphs[0], PROMO, *paragraphs[1:]]),
        outlet="Harbour Gazette",
        published=date(2024, 3, 1),
        url=f"https://gazette.example/news/{slug}",
    )


def test_articles_cleaned_again_stay_in_their_corpus(newsdesk: Engine) -> None:
    slugs = list(STORIES)
    newsdesk.add_articles([story(s) for s in slugs[:4]], server="A")
    own = ids(newsdesk, "A")
    assert all(PROMO in newsdesk.get_article(i, server="A").body for i in own)  # 4 pages: not boilerplate yet
    newsdesk.add_article(story(slugs[4]))  # the fifth page, in the shared corpus, makes the line boilerplate
    assert ids(newsdesk, None) == {story(slugs[4]).id} and ids(newsdesk, "A") == own | {story(slugs[4]).id}
    assert all(PROMO not in newsdesk.get_article(i, server="A").body for i in own)  # cleaned, where they were


def test_an_import_goes_to_one_servers_corpus(newsdesk: Engine, tmp_path: Path) -> None:
    path = tmp_path / "articles.jsonl.gz"
    lines = [
        {
            "url": f"https://gazette.example/news/{s}",
            "title": STORIES[s][0],
            "published": "2024-03-01",
            "authors": [],
            "body": "\n".join(STORIES[s][1]),
        }
        for s in ("harbour", "library")
    ]
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("".join(json.dumps(line) + "\n" for line in lines))
    report = newsdesk.import_jsonl(path, server="A", actor="cli:ops")
    assert report.added == 2 and len(ids(newsdesk, "A")) == 2
    assert ids(newsdesk, None) == set() and ids(newsdesk, "B") == set()
    assert {a.added_by for a in newsdesk.list_articles(server="A")} == {"cli:ops"}
    again = newsdesk.import_jsonl(path, server="B")  # the same file into another server is its own import
    assert not again.already_done and again.added == 2 and len(ids(newsdesk, "B")) == 2
    assert newsdesk.import_jsonl(path, server="A").already_done


def test_an_import_into_one_server_cleans_anothers_articles_where_they_are(newsdesk: Engine, tmp_path: Path) -> None:
    slugs = list(STORIES)
    newsdesk.add_articles([story(s) for s in slugs[:4]], server="A")
    own = ids(newsdesk, "A")
    path = tmp_path / "fifth.jsonl"
    fifth = story(slugs[4])
    path.write_text(
        json.dumps(
            {"url": fifth.url, "title": fifth.title, "published": "2024-03-01", "authors": [], "body": fifth.body}
        )
        + "\n"
    )
    assert newsdesk.import_jsonl(path, server="B").added == 1  # its promotion line is on a fifth page now
    assert ids(newsdesk, "A") == own and len(ids(newsdesk, "B")) == 1 and ids(newsdesk, None) == set()
    assert all(PROMO not in newsdesk.get_article(i, server="A").body for i in own)
    db = sqlite3.connect(Path(newsdesk.settings.data_dir) / "newsdesk.sqlite3")
    counted = {r[0] for r in db.execute("SELECT DISTINCT article_id FROM line_seen")}
    assert counted == own | ids(newsdesk, "B")  # each page's lines counted once, under the id it is stored with
