"""The evaluation harness: its scoring rules on handmade cases, and one end-to-end run on a tiny corpus."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from bench.corpus import make_subset
from bench.scoring import (
    LEAD_CHARS,
    answer_correct,
    answer_words,
    distinct,
    gold_rank,
    hits_at,
    mrr_at,
    percentile,
    shown_text,
    summarise,
)


# the README's answer rule -------------------------------------------------------------------------
def test_normalisation_drops_punctuation_case_and_stop_words():
    assert answer_words("The “Squid Game”!") == ["squid", "game"]
    assert answer_words("New Jersey & Oregon") == ["new", "jersey", "oregon"]
    assert answer_words("Ｆｕｌｌ-width ＡＢＣ") == ["full", "width", "abc"]  # NFKC
    assert answer_words("snake_case stays, 3.5%") == ["snake_case", "stays", "3", "5"]
    assert answer_words("a an the of in on and") == []


def test_two_thirds_of_the_gold_words_must_appear():
    assert answer_correct(["New Jersey & Oregon"], "Only New Jersey and Oregon ban it.")
    assert answer_correct(["New Jersey & Oregon"], "New Jersey bans it, and so does Oregon")
    assert answer_correct(["New Jersey & Oregon"], "in new jersey, oregon too")
    assert not answer_correct(["New Jersey & Oregon"], "Jersey City")  # 1 of 3
    assert answer_correct(["Joe Biden"], "President Biden said...") is False  # 1 of 2 < 2/3
    assert answer_correct(["Kevin McCarthy", "McCarthy"], "Speaker McCarthy")  # best of the gold answers


def test_only_the_first_thousand_characters_count():
    late = "x" * 1000 + " Yellowstone"
    assert not answer_correct(["Yellowstone"], late)
    assert answer_correct(["Yellowstone"], "x" * 980 + " Yellowstone")


def test_words_match_whole_words_not_substrings():
    assert not answer_correct(["Ford"], "Affordable cars")
    assert answer_correct(["Ford"], "Ford's recall")  # the apostrophe becomes a space


def test_a_gold_answer_of_stop_words_is_compared_as_is():
    assert answer_correct(["The The"], "the band The The played")
    assert not answer_correct(["The The"], "a band played")


def test_new_york_counts_two_of_three_words_as_enough():
    # 'New York and Oregon' vs gold 'New Jersey & Oregon': gold words new, jersey, oregon; 2 of 3 appear.
    assert answer_correct(["New Jersey & Oregon"], "New York and Oregon") is True


# ranking over distinct articles ---------------------------------------------------------------------
def test_rank_counts_distinct_articles_in_order():
    ranked = ["a", "a", "b", "a", "c", "b", "gold"]
    assert distinct(ranked) == ["a", "b", "c", "gold"]
    assert gold_rank(ranked, "gold") == 4
    assert gold_rank(ranked, "a") == 1
    assert gold_rank(ranked, "missing") is None
    assert gold_rank(ranked, None) is None


def test_hits_and_mrr():
    ranks = [1, 2, 5, 11, None]
    assert hits_at(ranks, 1) == pytest.approx(0.2)
    assert hits_at(ranks, 5) == pytest.approx(0.6)
    assert hits_at(ranks, 10) == pytest.approx(0.6)
    assert mrr_at(ranks, 10) == pytest.approx((1 + 0.5 + 0.2) / 5)
    assert hits_at([], 5) == 0.0


def test_percentiles_and_summary():
    assert percentile([10, 20, 30, 40], 50) == pytest.approx(25)
    assert percentile([5], 95) == 5
    rows = [
        {"rank": 1, "correct": True, "correct_lead": False, "covered": True, "latency_ms": 10.0},
        {"rank": None, "correct": False, "correct_lead": False, "covered": False, "latency_ms": 30.0},
    ]
    s = summarise(rows)
    assert s["hits_at_1"] == 0.5 and s["mrr_at_10"] == 0.5
    assert s["answer_accuracy"] == 0.5 and s["answer_lead_accuracy"] == 0.0 and s["not_covered_rate"] == 0.5
    assert s["latency_ms_p50"] == pytest.approx(20.0)


def test_shown_text_puts_the_sentences_before_the_quotes():
    from index.results import Answer, Citation, Passage, Sentence

    p = Passage("c1", "a1", "Ford recalled 2.9 million vehicles.", "Ford recall", "cnn.com", date(2022, 6, 15), None)
    answer = Answer("q", (Sentence("Ford recalled them.", (1,)),), (Citation(1, p),), date(2022, 6, 16))
    assert shown_text(answer) == "Ford recalled them. [1]\n[1] Ford recalled 2.9 million vehicles."


def _led(lead: str | None, first: str, later: str, quote: str):
    from index.results import Answer, Citation, Passage, Sentence

    p = Passage("c1", "a1", quote, "Recall", "cnn.com", date(2022, 6, 15), None)
    return Answer("q", (Sentence(first, (1,)), Sentence(later, (1,))), (Citation(1, p),), date(2022, 6, 16), lead=lead)


def test_shown_text_starts_with_the_short_answer_then_the_sentences_then_the_quotes():
    answer = _led(
        "Ford",
        "Ford recalled 2.9 million vehicles.",
        "Dealers will fix them.",
        "Ford recalled 2.9 million vehicles. Dealers will fix them.",
    )
    assert shown_text(answer) == (
        "Ford — Ford recalled 2.9 million vehicles. [1] Dealers will fix them. [1]\n"
        "[1] Ford recalled 2.9 million vehicles. Dealers will fix them."
    )


def test_the_lead_figure_counts_only_what_is_seen_first():
    context = "The recall covers pickup trucks built between 2018 and 2021 that may roll away when parked. " * 3
    late = _led(None, context.strip(), "Nissan is the automaker.", context + "Nissan is the automaker.")
    shown = shown_text(late)
    assert answer_correct(["Nissan"], shown) and not answer_correct(["Nissan"], shown, LEAD_CHARS)
    led = _led("Nissan", context.strip(), "Nissan is the automaker.", context + "Nissan is the automaker.")
    assert answer_correct(["Nissan"], shown_text(led), LEAD_CHARS)  # the short answer comes first
    assert LEAD_CHARS == 250 and answer_correct(["Nissan"], "x" * 240 + " Nissan", LEAD_CHARS)
    assert not answer_correct(["Nissan"], "x" * 250 + " Nissan", LEAD_CHARS)


def test_citations_hold_only_when_the_first_sentence_says_the_short_answer():
    from bench.scoring import citations_hold

    quote = "Ford recalled 2.9 million vehicles. Dealers will fix them."
    assert citations_hold(_led("Ford", "Ford recalled 2.9 million vehicles.", "Dealers will fix them.", quote))
    assert not citations_hold(_led("Toyota", "Ford recalled 2.9 million vehicles.", "Dealers will fix them.", quote))
    assert not citations_hold(_led(None, "Ford recalled 3 million vehicles.", "Dealers will fix them.", quote))


# the harness end to end -----------------------------------------------------------------------------
ARTICLES = [
    (
        "https://news.example/2024/03/02/flood",
        "River floods Dresden's old town",
        "2024-03-02",
        "Heavy rain made the Elbe river burst its banks in Dresden on Friday. Firefighters evacuated 300 residents "
        "from the old town and the bridges were closed to traffic. The mayor, Dirk Hilbert, asked people to stay home.",
    ),
    (
        "https://news.example/2025/09/14/flood",
        "River floods Dresden again",
        "2025-09-14",
        "Heavy rain made the Elbe river burst its banks in Dresden once more. Firefighters evacuated 120 residents "
        "from the old town; the main bridge stayed open this time.",
    ),
    (
        "https://news.example/2024/03/01/chips",
        "Chipmaker opens a plant in Magdeburg",
        "2024-03-01",
        "Intel opened its new chip plant in Magdeburg, promising 3,000 jobs. The factory cost 30 billion euros "
        "and will make processors from 2027, Intel said.",
    ),
    (
        "https://news.example/2024/02/28/rail",
        "Rail strike halts trains across Germany",
        "2024-02-28",
        "Train drivers of the GDL union walked out for 35 hours, halting most long-distance trains across Germany. "
        "Deutsche Bahn said it would run an emergency timetable.",
    ),
]
QUESTIONS = [
    {
        "id": "q1",
        "asked_on": "2024-03-04",
        "question": "How many residents were evacuated in Dresden this week?",
        "answers": ["300"],
        "gold_url": ARTICLES[0][0],
    },
    {
        "id": "q2",
        "asked_on": "2024-03-04",
        "question": "Which company opened a chip plant in Magdeburg?",
        "answers": ["Intel"],
        "gold_url": ARTICLES[2][0],
    },
    {
        "id": "q3",
        "asked_on": "2024-03-04",
        "question": "Which union's train drivers walked out?",
        "answers": ["GDL"],
        "gold_url": ARTICLES[3][0],
    },
]


def _write_bench(tmp_path: Path) -> tuple[Path, Path]:
    corpus = tmp_path / "corpus.jsonl.gz"
    with gzip.open(corpus, "wt", encoding="utf-8") as handle:
        for url, title, published, body in ARTICLES:
            handle.write(
                json.dumps({"url": url, "title": title, "published": published, "authors": [], "body": body}) + "\n"
            )
    questions = tmp_path / "questions.jsonl"
    questions.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return corpus, questions


def test_subset_keeps_gold_and_articles_near_the_question_dates(tmp_path):
    corpus, questions = _write_bench(tmp_path)
    out = make_subset(corpus, questions, tmp_path / "sub.jsonl.gz", days=10, extra=0)
    with gzip.open(out, "rt") as handle:
        urls = [json.loads(line)["url"] for line in handle]
    assert urls == [ARTICLES[0][0], ARTICLES[2][0], ARTICLES[3][0]]  # the 2025 article is far from 2024-03-04


def _quiet(label):
    return lambda done, total: None


def test_harness_end_to_end_on_a_tiny_corpus(tmp_path, embed_model, monkeypatch):
    from bench import eval as harness

    corpus, questions = _write_bench(tmp_path)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    report_path = tmp_path / "report.json"
    printed: list[str] = []

    class Out:
        def write(self, text):
            printed.append(text)

    result = harness.run_eval(
        corpus, questions, embed_model=embed_model, progress=_quiet, report=report_path, out=Out()
    )
    report = json.loads(report_path.read_text())
    for key in (
        "hits_at_1",
        "hits_at_5",
        "hits_at_10",
        "mrr_at_10",
        "answer_accuracy",
        "answer_lead_accuracy",
        "not_covered_rate",
        "latency_ms_p50",
        "latency_ms_p95",
    ):
        assert key in report and key in report["baseline"]
    assert report["hits_at_5"] == 1.0
    assert report["answer_accuracy"] >= 2 / 3
    leads = {r["id"]: r for r in report["per_question"]}
    assert leads["q2"]["lead"] == "Intel" and leads["q2"]["correct_lead"]  # asked "which company": it comes first
    assert report["answer_lead_accuracy"] == sum(r["correct_lead"] for r in leads.values()) / 3
    assert "answer@250" in "".join(printed)
    assert report["build"]["articles"] == 4
    assert len(report["per_question"]) == 3
    assert "| newsdesk |" in "".join(printed)
    # a second run reuses both indexes: nothing is embedded again
    monkeypatch.setattr(harness, "LEAD_CHARS", 1)  # the lead figure reads only what is seen first
    again = harness.run_eval(corpus, questions, embed_model=embed_model, progress=_quiet, out=Out())
    assert again["build"]["added"] == 0
    assert again["baseline_build"]["reused"] is True
    assert again["hits_at_5"] == result["hits_at_5"] and again["answer_accuracy"] == result["answer_accuracy"]
    assert again["answer_lead_accuracy"] == 0 and again["baseline"]["answer_lead_accuracy"] == 0


def test_llm_switch_scores_both_answerers_on_the_same_index(tmp_path, embed_model, monkeypatch):
    from bench import eval as harness
    from tests.fakes.openai import FakeOpenAI

    corpus, questions = _write_bench(tmp_path)
    monkeypatch.setenv("NEWSDESK_DATA_DIR", str(tmp_path / "data"))

    class Out:
        def write(self, text):
            printed.append(text)

    printed: list[str] = []
    monkeypatch.delenv("LLM_BASE_URL", raising=False)
    with pytest.raises(Exception, match="LLM_BASE_URL"):
        harness.run_eval(
            corpus, questions, embed_model=embed_model, progress=_quiet, llm=True, baseline=False, out=Out()
        )
    with FakeOpenAI() as fake:
        monkeypatch.setenv("LLM_BASE_URL", fake.base_url)
        monkeypatch.setenv("LLM_MODEL", "fake-model")
        # the model answers the first question well and the others with an unsupported claim
        fake.script(
            "About 300 residents of Dresden's old town were evacuated [1].",
            "The plant was opened by Samsung in Munich [1].",
            "The moon is made of blue cheese [7].",
        )
        report_path = tmp_path / "llm.json"
        result = harness.run_eval(
            corpus,
            questions,
            embed_model=embed_model,
            progress=_quiet,
            report=report_path,
            llm=True,
            baseline=False,
            out=Out(),
        )
    report = json.loads(report_path.read_text())
    assert result["answerer"] == "llm" and report["extractive"]["answerer"] == "extractive"
    assert [r["answerer"] for r in report["per_question"]] == ["llm:fake-model", "extractive", "extractive"]
    assert report["fallback_rate"] == pytest.approx(2 / 3)
    assert report["hits_at_5"] == report["extractive"]["hits_at_5"]  # same retrieval for both
    assert len(fake.requests) == 3
    assert "| newsdesk, LLM answers |" in "".join(printed) and "| newsdesk, extractive answers |" in "".join(printed)
