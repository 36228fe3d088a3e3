"""Each stage of ranking on small inputs: evidence, fusion, the date prior, passage choice, duplicates."""

from __future__ import annotations

from datetime import date

import pytest

from index.dates import TimeWindow, question_window
from index.ranking import (
    CHUNKS_PER_ARTICLE,
    RRF_K,
    ChunkEvidence,
    article_evidence,
    choose_chunks,
    date_weight,
    fuse,
    rank_weights,
    without_duplicates,
)
from index.results import Passage


def chunk(article: str, cosine: float, keyword: float = 0.0, n: int = 0) -> ChunkEvidence:
    return ChunkEvidence(f"{article}-{n}", article, cosine, keyword)


def test_evidence_is_the_mean_of_an_articles_best_chunks():
    assert article_evidence([0.9, 0.1, 0.8, 0.7]) == pytest.approx((0.9 + 0.8 + 0.7) / 3)
    assert article_evidence([0.9]) == pytest.approx(0.9)  # fewer chunks: the mean of what there is
    assert article_evidence([]) == 0.0


def test_an_article_about_the_matter_beats_a_roundup_mentioning_it_once():
    about = [chunk("about", s, n=i) for i, s in enumerate([0.7, 0.68, 0.66])]
    roundup = [chunk("roundup", s, n=i) for i, s in enumerate([0.75, 0.1, 0.1])]
    fused = fuse(about + roundup, {"about": 0.0, "roundup": 0.0})
    assert fused["about"] > fused["roundup"]


def test_rank_weights_follow_the_order_of_the_values():
    weights = rank_weights({"a": 0.2, "b": 0.9, "c": 0.5})
    assert weights == {"b": 1 / (RRF_K + 1), "c": 1 / (RRF_K + 2), "a": 1 / (RRF_K + 3)}


def test_fusion_counts_every_signal():
    chunks = [chunk("dense", 0.9, 0.0), chunk("words", 0.2, 1.0), chunk("title", 0.1, 0.0)]
    titles = {"dense": 0.0, "words": 0.0, "title": 0.9}
    fused = fuse(chunks, titles)
    assert fused["title"] > fuse(chunks, dict.fromkeys(titles, 0.0))["title"]  # its headline counts
    no_words = [chunk("dense", 0.9, 0.0), chunk("words", 0.2, 0.0), chunk("title", 0.1, 0.0)]
    assert fused["words"] > fuse(no_words, titles)["words"]  # its keywords count
    no_meaning = [chunk("dense", 0.0, 0.0), chunk("words", 0.2, 1.0), chunk("title", 0.1, 0.0)]
    assert fused["dense"] > fuse(no_meaning, titles)["dense"]  # its meaning counts


def test_the_date_prior_prefers_the_window_and_never_the_future():
    as_of = date(2024, 3, 10)
    window = question_window("What happened this week?", as_of)
    assert date_weight(date(2024, 3, 9), window, as_of) > date_weight(date(2024, 1, 9), window, as_of)
    assert date_weight(date(2024, 3, 12), window, as_of) < 0.05  # after the as-of date
    assert date_weight(None, window, as_of) == 0.5
    assert date_weight(date(2019, 1, 1), window, as_of) >= 0.1 * 0.7  # old news stays findable


def test_the_latest_report_of_a_running_story_weighs_a_little_more():
    as_of = date(2024, 3, 10)
    window = TimeWindow(date(2024, 3, 1), date(2024, 3, 11), True)
    assert date_weight(date(2024, 3, 9), window, as_of) > date_weight(date(2024, 3, 2), window, as_of)


def test_passages_come_from_the_best_articles_a_few_chunks_each():
    chunks = [chunk("a", 0.9 - i / 10, n=i) for i in range(4)] + [chunk("b", 0.5, n=i) for i in range(3)]
    chosen = choose_chunks(["b", "a"], chunks, limit=3)
    assert [c.article_id for c in chosen][:CHUNKS_PER_ARTICLE] == ["b"] * CHUNKS_PER_ARTICLE
    assert [c.chunk_id for c in chosen if c.article_id == "a"] == ["a-0", "a-1"]  # its best chunks first


def _passage(text: str, n: int) -> Passage:
    return Passage(chunk_id=f"c{n}", article_id=f"a{n}", text=text, title="t", outlet=None, published=None, url=None)


def test_near_duplicate_passages_are_dropped():
    wire = "The central bank raised its main rate by half a point on Thursday to fight inflation, officials said."
    copy = wire.replace("officials said", "officials told reporters")
    other = "Rain is expected across the north on Friday, with flooding possible near rivers."
    kept = without_duplicates([_passage(wire, 1), _passage(copy, 2), _passage(other, 3)])
    assert [p.chunk_id for p in kept] == ["c1", "c3"]
    assert [p.chunk_id for p in without_duplicates([_passage(wire, 1), _passage(other, 3)], limit=1)] == ["c1"]
