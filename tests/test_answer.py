"""The extractive answerer picks sentences that state something, with the real embedding model."""

from __future__ import annotations

from datetime import date

from index.answer import ExtractiveAnswerer
from index.results import Passage

QUIZ = ("Test your knowledge of the week's news. Scientists have revived what animal that was frozen in "
        "the Siberian permafrost? Which city hosted the summit?")
REPORT = ("Researchers in Russia revived a microscopic roundworm that had been frozen in the Siberian "
          "permafrost for 46,000 years. The nematode went on to reproduce in the laboratory.")


def _passage(n: int, text: str, score: float) -> Passage:
    return Passage(f"c{n}", f"a{n}", text, f"Story {n}", "Daily News", date(2023, 7, 28), None, score=score)


def test_a_quiz_that_repeats_the_question_is_not_quoted_as_its_answer(embed_model):
    question = "Scientists have revived what animal that was frozen in the Siberian permafrost?"
    answer = ExtractiveAnswerer(embed_model).answer(
        question, [_passage(1, QUIZ, 1.0), _passage(2, REPORT, 0.9)], as_of=date(2023, 8, 4))
    assert answer.covered
    assert not any(s.text.endswith("?") for s in answer.sentences)
    assert "roundworm" in answer.text and answer.citations[0].passage.article_id == "a2"
