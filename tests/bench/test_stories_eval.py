"""`newsdesk eval-stories`: its question set and the property checks, on handmade answers."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bench.stories_eval import QUESTIONS, Labels, check, load_labels, load_questions
from index import Answer, Citation, Passage, Sentence

DEV = Path("/work/shared/bench/realtimeqa/questions.dev.jsonl")
LABELS = Labels(story={"a": "storm", "b": "storm", "c": "vote"}, copy_group={"a": "g1", "b": "g1"})


def passage(article: str, day: int, outlet: str) -> Passage:
    return Passage(f"{article}-0", article, f"Report {article}.", f"Title {article}", outlet, date(2022, 9, day), None)


def answer(*cited: tuple[str, int, str], heading: str = "", shape: str = "timeline", notes: tuple = ()) -> Answer:
    citations = tuple(Citation(n, passage(*c)) for n, c in enumerate(cited, 1))
    sentences = tuple(
        Sentence(f"Report {c[0]}.", (n,), day=date(2022, 9, c[1]), label=str(c[1])) for n, c in enumerate(cited, 1)
    )
    return Answer("q", sentences, citations, date(2022, 9, 30), shape=shape, heading=heading, notes=notes)


def test_each_property_holds_or_not():
    timeline = answer(("a", 26, "cnn.com"), ("c", 28, "usatoday.com"), heading="As of 2022-09-28, the newest:")
    held = check(
        timeline,
        {
            "shape": "timeline",
            "cites_story": "vote",
            "first_cites_story": "storm",
            "min_story_sources": ["storm", 1],
            "first_on_or_after": "2022-09-26",
            "first_on_or_before": "2022-09-26",
            "last_on_or_after": "2022-09-28",
            "all_on_or_before": "2022-09-28",
            "all_on_or_after": "2022-09-26",
            "date_order": True,
            "heading_as_of": True,
            "outlets_cited": ["CNN", "USA Today"],
            "only_outlets": ["CNN", "USA Today"],
            "no_copy_pairs": True,
            "one_line_per_story": True,
            "note_absent": "newest source",
        },
        LABELS,
    )
    assert all(held.values()), held
    backwards = answer(
        ("c", 28, "usatoday.com"),
        ("a", 26, "cnn.com"),
        ("b", 27, "theweek.co.uk"),
        shape="latest",
        notes=("The newest source is from 2022-09-28.",),
    )
    missed = check(
        backwards,
        {
            "shape": "timeline",
            "first_cites_story": "storm",
            "date_order": True,
            "min_story_sources": ["storm", 3],
            "first_on_or_after": "2022-09-29",
            "all_on_or_before": "2022-09-27",
            "all_on_or_after": "2022-09-27",
            "heading_as_of": True,
            "only_outlets": ["CNN", "USA Today"],
            "no_copy_pairs": True,
            "one_line_per_story": True,
            "note_absent": "newest source",
            "outlets_cited": ["Fox"],
        },
        LABELS,
    )
    assert not any(v for k, v in missed.items() if k not in ("citations_hold", "each_article_once")), missed


def test_an_article_cited_twice_is_caught():
    twice = answer(("a", 26, "cnn.com"), ("a", 26, "cnn.com"))
    assert not check(twice, {}, LABELS)["each_article_once"]


def test_the_question_set_is_well_formed_and_every_property_is_known():
    questions = load_questions(QUESTIONS)
    assert len(questions) >= 20 and len({q.id for q in questions}) == len(questions)
    assert {q.expect["shape"] for q in questions} == {"latest", "since", "timeline", "digest", "outlets", "answer"}
    labels = load_labels()
    named = {q.expect.get("cites_story") for q in questions} - {None}
    assert named <= set(labels.story.values())
    empty = Answer("q", (), (), date(2022, 1, 1))
    for q in questions:
        check(empty, q.expect, labels)  # raises on an unknown property


@pytest.mark.skipif(not DEV.exists(), reason="the benchmark's questions are not on this machine")
def test_no_benchmark_question_is_copied():
    benchmark = {json.loads(line)["question"].strip().lower() for line in DEV.read_text().splitlines() if line}
    assert not {q.question.strip().lower() for q in load_questions(QUESTIONS)} & benchmark
