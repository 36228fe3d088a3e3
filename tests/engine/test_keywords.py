"""Keyword scores: BM25 of given chunks computed from their stored terms, as FTS5's own bm25() ranks them."""

from __future__ import annotations

from index import Engine
from index.keywords import query_terms, scores, term_stats

from .test_faults import FLOOD


def test_scores_of_given_chunks_equal_fts5s_bm25(engine: Engine):
    engine.add_article(FLOOD)
    catalog = engine._catalog
    terms = query_terms("How many residents did firefighters evacuate from the flooded old town in Dresden?")
    seqs = [r[0] for r in catalog.reader().execute("SELECT rowid FROM chunk_terms")]
    match = " OR ".join(f'"{t}"' for t in terms)
    expected = dict(catalog.reader().execute(
        "SELECT rowid, -bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?", (match,)).fetchall())
    got = scores(catalog, terms, seqs)
    assert expected and got.keys() == expected.keys()
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in expected)
    some = seqs[:2]
    assert scores(catalog, terms, some).keys() == {s for s in some if s in expected}  # only the chunks asked for


def test_term_stats_count_the_chunks_their_length_and_each_terms_chunks(engine: Engine):
    engine.add_article(FLOOD)
    texts = [t for (t,) in engine._catalog.reader().execute("SELECT terms FROM chunk_terms")]
    stats = term_stats(engine._catalog, ["dresden", "zzzunknown"])
    assert stats.rows == len(texts) == engine.status().chunks
    assert abs(stats.avg_length - sum(len(t.split()) for t in texts) / len(texts)) < 1e-9
    assert stats.docs == {"dresden": sum("dresden" in t.split() for t in texts), "zzzunknown": 0}
