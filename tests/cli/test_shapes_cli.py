"""The terminal shows a shaped answer: its heading, dated items one a line, figures over time, 'also reported by'."""

from __future__ import annotations

from datetime import date

from cli.output import render_answer
from index import Answer, Citation, Passage, Sentence
from index.results import Figure, Update


def test_a_timeline_is_shown_item_by_item_with_figures_and_copies():
    a = Passage(
        "a-0",
        "a",
        "Delia made landfall, killing 12 people.",
        "Delia makes landfall",
        "Bay Courier",
        date(2024, 9, 11),
        "https://bay.example/a",
    )
    b = Passage("b-0", "b", "The toll rose to 27 people.", "Toll rises", "Gulf Herald", date(2024, 9, 12), None)
    answer = Answer(
        "q",
        (
            Sentence("Delia made landfall, killing 12 people.", (1,), date(2024, 9, 11), "2024-09-11, Bay Courier"),
            Sentence("The toll rose to 27 people.", (2,), date(2024, 9, 12), "2024-09-12, Gulf Herald"),
        ),
        (Citation(1, a, also=("Coastal Times", "Metro")), Citation(2, b)),
        date(2024, 9, 13),
        shape="timeline",
        heading="Timeline: 2 reports from 2024-09-11 to 2024-09-12:",
        updates=(
            Update(
                "people",
                "update",
                (Figure("12", date(2024, 9, 11), "Bay Courier", 1), Figure("27", date(2024, 9, 12), "Gulf Herald", 2)),
            ),
        ),
    )
    lines = render_answer(answer).splitlines()
    assert lines[:3] == [
        "Timeline: 2 reports from 2024-09-11 to 2024-09-12:",
        "2024-09-11, Bay Courier: Delia made landfall, killing 12 people. [1]",
        "2024-09-12, Gulf Herald: The toll rose to 27 people. [2]",
    ]
    assert lines[3] == "Figures: people: 12 on 2024-09-11 [1], 27 on 2024-09-12 [2]"
    at = lines.index("[1] Delia makes landfall — Bay Courier, 2024-09-11")
    assert lines[at + 1] == "    also reported by Coastal Times, Metro"


def test_a_plain_answer_is_shown_as_before():
    p = Passage("a-0", "a", "Kyiv was hit.", "Strikes", None, None, None)
    answer = Answer(
        "q", (Sentence("Kyiv was hit.", (1,)), Sentence("Kharkiv too.", (1,))), (Citation(1, p),), date(2024, 1, 1)
    )
    assert render_answer(answer).splitlines()[:3] == ["Kyiv was hit. [1] Kharkiv too. [1]", "", "Sources:"]
