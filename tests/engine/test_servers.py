"""A corpus per server: isolation applied in each store (Chroma's where, FTS5's column filter) and in the catalog's
reads, per-server management, sharing, hidden and demoted articles; real model, real Chroma in tmp_path."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest

import index.keywords
from index.articles import Article
from index.errors import ArticleNotFound, InvalidInput
from index.servers import Scope, keyword_token, scope_for

FERRY = Article(
    title="Westport ferry fares will double in March",
    body="The Westport ferry company will double its fares in March, the harbour board said on Monday. "
    "A single crossing will cost 8 euros instead of 4; season tickets rise by half.",
    outlet="Westport Post",
    published=date(2025, 2, 3),
    url="https://news.example/ferry-fares",
)
TOLL = Article(
    title="Eastport council approves a bridge toll",
    body="Eastport's council approved a toll of 3 euros on the new river bridge on Tuesday. Lorries will "
    "pay 12 euros; the toll starts when the bridge opens in June.",
    outlet="Eastport Courier",
    published=date(2025, 2, 4),
    url="https://news.example/bridge-toll",
)
FERRY_Q = "How much will a single ferry crossing in Westport cost?"
TOLL_Q = "How much is the Eastport bridge toll?"


@pytest.fixture
def two(seeded: Any) -> Any:
    """Seeds (shared), the ferry article in server A and the toll article in server B."""
    seeded.add_article(FERRY, server="A", actor="alice")
    seeded.add_article(TOLL, server="B", actor="bob")
    return seeded


def cited(engine: Any, question: str, server: str | None) -> set[str]:
    """Titles of the articles an answer cites."""
    return {c.passage.title for c in engine.ask(question, server=server, as_of=date(2025, 2, 10)).citations}


def keyword_articles(engine: Any, question: str, server: str | None) -> set[str]:
    """The articles a keyword search for the question finds from a server."""
    hits = index.keywords.search(engine._catalog, index.keywords.query_terms(question), 100, Scope(server))
    return set(engine._catalog.articles_of_seqs([s for s, _ in hits]).values())


class Recording:
    """The live store, remembering every chunk and title id its queries returned."""

    def __init__(self, store: Any) -> None:
        self.store, self.returned = store, []

    def query_chunks(self, vector: Any, k: int, *, where: Any) -> Any:
        found = self.store.query_chunks(vector, k, where=where)
        self.returned += [("chunk", c) for c, _ in found]
        return found

    def query_titles(self, vector: Any, k: int, *, where: Any) -> Any:
        found = self.store.query_titles(vector, k, where=where)
        self.returned += [("title", a) for a, _ in found]
        return found

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@pytest.fixture
def recorded(two: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Recording, list[int]]:
    """The engine, what its vector store's queries returned, and what its keyword searches returned."""
    store = Recording(two._view.live())
    monkeypatch.setattr(two._view, "live", lambda: store)
    seqs: list[int] = []
    search = index.keywords.search

    def recording_search(*args: Any, **kwargs: Any) -> Any:
        found = search(*args, **kwargs)
        seqs.extend(s for s, _ in found)
        return found

    monkeypatch.setattr(index.keywords, "search", recording_search)
    return two, store, seqs


def _article_of(engine: Any, kind: str, ident: Any) -> str:
    if kind == "title":
        return str(ident)
    return engine._catalog.chunk_articles([ident])[ident]


def test_each_server_is_answered_from_its_own_and_the_shared_articles(two: Any) -> None:
    assert cited(two, FERRY_Q, "A") == {FERRY.title}
    assert FERRY.title not in cited(two, FERRY_Q, "B") and FERRY.title not in cited(two, FERRY_Q, None)
    assert cited(two, TOLL_Q, "B") == {TOLL.title}
    assert TOLL.title not in cited(two, TOLL_Q, "A") and TOLL.title not in cited(two, TOLL_Q, None)
    shared = "Which cities were hit?"
    assert all(any("Russia" in t for t in cited(two, shared, s)) for s in ("A", "B", None))


def test_the_vector_store_returns_only_what_the_server_may_read(recorded: Any) -> None:
    engine, store, _ = recorded
    toll = {i.id for i in engine.list_articles(server="B") if i.server == "B"}
    engine.ask(TOLL_Q, server="A")  # B's article is the nearest by far: only the filter keeps it out
    readable = {i.id for i in engine.list_articles(server="A")}
    returned = {_article_of(engine, kind, i) for kind, i in store.returned}
    assert returned and returned <= readable and not returned & toll
    assert {k for k, _ in store.returned} == {"chunk", "title"}


def test_the_keyword_index_returns_only_what_the_server_may_read(recorded: Any) -> None:
    engine, _, seqs = recorded
    engine.ask(TOLL_Q, server="A")
    found = set(engine._catalog.articles_of_seqs(seqs).values())
    readable = {i.id for i in engine.list_articles(server="A")}
    assert found <= readable
    engine.ask(TOLL_Q, server="B")  # the same search from B finds the toll article: the filter, not the terms
    assert any(i.server == "B" for i in engine._catalog.infos_for(engine._catalog.articles_of_seqs(seqs).values()))


def test_keyword_search_ranks_within_the_scope_only(two: Any) -> None:
    terms = index.keywords.query_terms(TOLL_Q)
    for server, wanted in (("A", {"A", None}), ("B", {"B", None}), (None, {None})):
        hits = index.keywords.search(two._catalog, terms, 100, Scope(server))
        found = two._catalog.articles_of_seqs([s for s, _ in hits]).values()
        corpora = {i.server for i in two._catalog.infos_for(found)}
        assert corpora <= wanted, server
    assert index.keywords.search(two._catalog, terms, 100, Scope("B"))


def test_stale_store_metadata_still_cannot_leak_through_the_catalog(two: Any) -> None:
    # vectors and keyword rows claiming the wrong corpus (as a crash between a move and its vector re-write
    # could leave them): the catalog's reads of the candidates filter them out
    toll = next(i.id for i in two.list_articles(server="B") if i.server == "B")
    live = two._view.live()
    chunk_ids = sorted(live.chunk_ids_of([toll]))
    live._chunks.update(ids=chunk_ids, metadatas=[{"server": "A"}] * len(chunk_ids))
    live._titles.update(ids=[toll], metadatas=[{"server": "A"}])
    with two._catalog.transaction("corrupt the keyword corpus") as db:
        seqs = [r[0] for r in db.execute("SELECT seq FROM chunks WHERE article_id = ?", (toll,))]
        index.keywords.set_corpus(db, seqs, keyword_token("A"))
    assert TOLL.title not in cited(two, TOLL_Q, "A")
    assert Scope("A").visible(two._catalog.reader(), [toll]) == set()


def test_the_same_page_added_in_two_servers_is_two_articles(two: Any) -> None:
    changed = Article(title=FERRY.title, body="B's copy says the fares stay at 4 euros. " * 3, url=FERRY.url)
    added = two.add_article(changed, server="B")
    mine = next(i for i in two.list_articles(server="A") if i.server == "A")
    assert added.status == "added" and added.article.id != mine.id and added.article.server == "B"
    assert "8 euros" in two.get_article(mine.id, server="A").body  # A's copy is untouched
    with pytest.raises(ArticleNotFound):
        two.get_article(mine.id, server="B")


def test_listing_removing_status_act_on_the_servers_own_corpus(two: Any) -> None:
    a_ids = {i.id for i in two.list_articles(server="A")}
    toll = next(i for i in two.list_articles(server="B") if i.server == "B")
    seed = next(i for i in two.list_articles() if i.server is None)
    assert toll.id not in a_ids and seed.id in a_ids
    assert next(i for i in two.list_articles(server="A") if i.server == "A").added_by == "alice"
    for article_id in (toll.id, seed.id):  # another server's, and a shared one
        with pytest.raises(ArticleNotFound):
            two.remove(article_id, server="A")
    assert two.status(server="A").articles == 1 and two.status(server="B").articles == 1
    assert two.status().articles == 2 and "vectors" not in two.status(server="A").extra
    assert two.status(server="A").extra["shared_articles"] == 2
    removed = two.remove(toll.id, server="B", actor="bob")
    assert removed.id == toll.id and two.status(server="B").articles == 0
    assert [(e.article_id, e.actor) for e in two.article_history(server="B")] == [(toll.id, "bob")]
    assert two.article_history(server="A") == []


def test_a_server_rebuild_rewrites_its_own_vectors_only(two: Any) -> None:
    ferry = next(i.id for i in two.list_articles(server="A") if i.server == "A")
    toll = next(i.id for i in two.list_articles(server="B") if i.server == "B")
    live = two._view.live()
    live.delete_chunks(sorted(live.chunk_ids_of([ferry])))  # A's vectors lost
    other = live._chunks.get(ids=sorted(live.chunk_ids_of([toll])), include=["embeddings"])
    report = two.rebuild_server("A")
    assert report.articles == 1 and report.embedded == 0 and live.chunk_ids_of([ferry])
    after = live._chunks.get(ids=other["ids"], include=["embeddings"])
    assert after["ids"] == other["ids"] and np.allclose(after["embeddings"], other["embeddings"])
    assert cited(two, FERRY_Q, "A") == {FERRY.title}


def test_sharing_moves_an_article_to_every_server_and_back(two: Any) -> None:
    toll = next(i.id for i in two.list_articles(server="B") if i.server == "B")
    with pytest.raises(ArticleNotFound):
        two.share(toll, server="A")
    assert two.share(toll, server="B", actor="operator").server is None
    assert cited(two, TOLL_Q, "A") == {TOLL.title}  # through both stores' filters: the vectors were re-written
    assert two._view.live()._titles.get(ids=[toll], include=["metadatas"])["metadatas"][0]["server"] == "*"
    assert toll in keyword_articles(two, TOLL_Q, "A")
    assert two.unshare(toll, server="B").server == "B"
    assert TOLL.title not in cited(two, TOLL_Q, "A") and cited(two, TOLL_Q, "B") == {TOLL.title}
    assert toll not in keyword_articles(two, TOLL_Q, "A") and toll in keyword_articles(two, TOLL_Q, "B")
    with pytest.raises(ArticleNotFound):
        two.unshare(toll, server="B")  # no longer shared


def test_a_hidden_article_is_never_cited_and_comes_back_when_restored(recorded: Any) -> None:
    engine, store, seqs = recorded
    ferry = next(i.id for i in engine.list_articles(server="A") if i.server == "A")
    assert engine.moderate(ferry, server="A", mode="hidden", actor="mod").moderation == "hidden"
    store.returned.clear()
    seqs.clear()
    assert FERRY.title not in cited(engine, FERRY_Q, "A")
    assert ferry not in {_article_of(engine, k, i) for k, i in store.returned}  # left out by the store...
    assert ferry not in set(engine._catalog.articles_of_seqs(seqs).values())  # ...and by the keyword index
    assert Scope("A", hidden=frozenset({ferry})).visible(engine._catalog.reader(), [ferry]) == set()
    engine.moderate(ferry, server="A", mode=None)
    assert cited(engine, FERRY_Q, "A") == {FERRY.title}


def test_hiding_is_per_server(two: Any) -> None:
    seed = next(i.id for i in two.list_articles() if i.title.startswith("Russia escalates"))
    two.moderate(seed, server="A", mode="hidden")
    assert not any(t.startswith("Russia escalates") for t in cited(two, "Which cities were hit?", "A"))
    assert any(t.startswith("Russia escalates") for t in cited(two, "Which cities were hit?", "B"))
    toll = next(i.id for i in two.list_articles(server="B") if i.server == "B")
    with pytest.raises(ArticleNotFound):
        two.moderate(toll, server="A", mode="hidden")  # not an article A can read
    with pytest.raises(InvalidInput):
        two.moderate(seed, server="A", mode="burn")


def test_a_demoted_article_ranks_below_an_equal_one(two: Any) -> None:
    rival = Article(
        title="Westport ferry fares to double from March",
        body="Fares on the Westport ferry double in March: a single crossing costs 8 euros, the harbour "
        "board said. Season tickets rise by half.",
        outlet="Harbour Times",
        published=date(2025, 2, 3),
        url="https://news.example/ferry-fares-2",
    )
    two.add_article(rival, server="A")
    first = two.retrieve(FERRY_Q, server="A", as_of=date(2025, 2, 10)).passages[0].article_id
    two.moderate(first, server="A", mode="demoted")
    passages = two.retrieve(FERRY_Q, server="A", as_of=date(2025, 2, 10)).passages
    assert passages[0].article_id != first and first in {p.article_id for p in passages}


def test_server_ids_are_checked(two: Any) -> None:
    for bad in ("", "*", "a b", "x" * 65, "<@123>"):
        with pytest.raises(InvalidInput):
            two.ask(FERRY_Q, server=bad)
    assert two.status(server="123456789012345678").articles == 0


def test_the_vector_store_is_filtered_only_when_another_corpus_is_stored(seeded: Any) -> None:
    reader = seeded._catalog.reader
    assert scope_for(reader(), None).where() is None  # only shared articles: nothing to keep out
    seeded.add_article(FERRY, server="A")
    assert scope_for(reader(), "A").where() is None  # A reads everything stored
    assert scope_for(reader(), None).where() is not None  # the shared corpus must not read A's
    assert scope_for(reader(), "B").where() is not None
    seeded.add_article(TOLL, server="B")
    assert scope_for(reader(), "A").where() is not None
    assert replace(scope_for(reader(), "A"), everything=True, hidden=frozenset({"x"})).where() is not None
