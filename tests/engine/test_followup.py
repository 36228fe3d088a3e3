"""Follow-ups rewritten into stand-alone questions from the conversation."""

from __future__ import annotations

import pytest

from index.followup import entities, standalone
from index.results import Turn

DRESDEN = [Turn("What happened in Dresden?", "Heavy rain made the Elbe burst its banks in Dresden. [1]")]


@pytest.mark.parametrize(
    "question, expected",
    [
        ("How many people were evacuated there?", "How many people were evacuated in Dresden?"),
        ("What about Lyon?", "What happened in Lyon?"),
        ("And Prague?", "What happened in Prague?"),
        ("Who ordered the evacuation in Lyon?", "Who ordered the evacuation in Lyon?"),  # names its own subject
        ("How high did it rise?", "How high did Dresden rise?"),
    ],
)
def test_a_follow_up_becomes_a_question_that_stands_alone(question, expected):
    assert standalone(question, DRESDEN) == expected


def test_without_a_conversation_the_question_is_unchanged():
    assert standalone("How many people were evacuated there?", []) == "How many people were evacuated there?"


def test_a_short_follow_up_without_a_subject_takes_the_previous_one():
    history = [Turn("Why did Liz Truss resign?", "Liz Truss resigned after 45 days. [1]")]
    assert standalone("Who replaced her?", history) == "Who replaced Liz Truss?"
    assert standalone("When?", history) == "When (Liz Truss)?"


def test_names_are_capitalised_runs_not_sentence_openings():
    assert entities("What did the Bank of England decide on Thursday?") == ["Bank of England", "Thursday"]
    assert entities("Floods hit the town.") == []
