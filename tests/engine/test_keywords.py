"""Keyword scores: BM25 of given chunks computed from their stored terms."""

from __future__ import annotations

import math

from index import Engine
from index.keywords import query_terms, scores, term_stats

from .test_faults import FLOOD


def test_scores_of_given_chunks_are_bm25_with_lucenes_idf(engine: Engine):
    engine.add_article(FLOOD)
    catalog = engine._catalog
    terms = query_terms("How many residents did firefighters evacuate from the flooded old town in Dresden?")
    rows = dict(catalog.reader().execute("SELECT rowid, terms FROM chunk_terms").fetchall())
    docs = {t: sum(t in text.split() for text in rows.values()) for t in terms}
    avg = sum(len(text.split()) for text in rows.values()) / len(rows)
    expected = {}
    for seq, text in rows.items():
        words = text.split()
        score = sum(
            math.log(1 + (len(rows) - docs[t] + 0.5) / (docs[t] + 0.5))
            * words.count(t)
            * 2.2
            / (words.count(t) + 1.2 * (0.25 + 0.75 * len(words) / avg))
            for t in terms
            if t in words
        )
        if score:
            expected[seq] = score
    got = scores(catalog, terms, list(rows))
    assert expected and got.keys() == expected.keys()
    assert all(abs(got[k] - expected[k]) < 1e-9 for k in expected)
    some = list(rows)[:2]
    assert scores(catalog, terms, some).keys() == {s for s in some if s in expected}  # only the chunks asked for
    match = " OR ".join(f'"{t}"' for t in terms)
    fts5 = dict(
        catalog.reader()
        .execute("SELECT rowid, -bm25(chunk_terms) FROM chunk_terms WHERE chunk_terms MATCH ?", (match,))
        .fetchall()
    )
    assert fts5.keys() == got.keys()  # the same chunks match as in FTS5 itself


def test_term_stats_count_the_chunks_their_length_and_each_terms_chunks(engine: Engine):
    engine.add_article(FLOOD)
    texts = [t for (t,) in engine._catalog.reader().execute("SELECT terms FROM chunk_terms")]
    stats = term_stats(engine._catalog, ["dresden", "zzzunknown"])
    assert stats.rows == len(texts) == engine.status().chunks
    assert abs(stats.avg_length - sum(len(t.split()) for t in texts) / len(texts)) < 1e-9
    assert stats.docs == {"dresden": sum("dresden" in t.split() for t in texts), "zzzunknown": 0}
