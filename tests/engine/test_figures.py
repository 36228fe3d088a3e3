"""Figures that change: values of one thing on different days are updates, values of two outlets on one day a
disagreement; one outlet's two values on one day, other stories' figures, years and days of a month are neither."""

from __future__ import annotations

from datetime import date

from index.figures import figures_in, updates
from index.results import Answer, Citation, Passage, Sentence

STORY = {"a": "storm", "b": "storm", "c": "storm", "d": "fire"}


def answer(*said: tuple[str, str, str, date]) -> Answer:
    """An answer whose n-th sentence (text) cites the n-th article (id, outlet, date)."""
    citations = tuple(
        Citation(n, Passage(f"{a}-0", a, text, "T", outlet, day, None))
        for n, (text, a, outlet, day) in enumerate(said, 1)
    )
    return Answer(
        "q", tuple(Sentence(text, (n,)) for n, (text, *_) in enumerate(said, 1)), citations, date(2024, 9, 20)
    )


def found(a: Answer) -> dict[str, list[tuple[str, date | None, str | None]]]:
    return {u.kind: [(v.value, v.day, v.outlet) for v in u.values] for u in updates(a, STORY.__getitem__)}


def test_values_on_later_days_are_updates_in_date_order_not_a_disagreement():
    got = found(
        answer(
            ("The storm killed 27 people.", "b", "Herald", date(2024, 9, 12)),
            ("The storm killed 12 people.", "a", "Courier", date(2024, 9, 11)),
        )
    )
    assert got == {"update": [("12", date(2024, 9, 11), "Courier"), ("27", date(2024, 9, 12), "Herald")]}


def test_two_outlets_on_one_day_disagree_one_outlet_corrected_in_a_day_does_not():
    got = found(
        answer(
            ("The storm killed 27 people.", "a", "Herald", date(2024, 9, 12)),
            ("At least 31 people died in the storm.", "b", "Courier", date(2024, 9, 12)),
        )
    )
    assert got == {"disagreement": [("27", date(2024, 9, 12), "Herald"), ("31", date(2024, 9, 12), "Courier")]}
    same_outlet = found(
        answer(
            ("The storm killed 27 people.", "a", "Herald", date(2024, 9, 12)),
            ("The storm killed 29 people.", "c", "Herald", date(2024, 9, 12)),
        )
    )
    assert same_outlet == {}


def test_figures_of_other_stories_or_other_things_are_not_compared():
    assert (
        found(
            answer(
                ("The storm killed 12 people.", "a", "Herald", date(2024, 9, 11)),
                ("The fire killed 3 people.", "d", "Herald", date(2024, 9, 12)),
            )
        )
        == {}
    )
    assert (
        found(
            answer(
                ("The storm destroyed 40 homes.", "a", "Herald", date(2024, 9, 11)),
                ("The storm killed 12 people.", "b", "Herald", date(2024, 9, 12)),
            )
        )
        == {}
    )


def test_years_and_days_of_a_month_are_not_figures():
    assert figures_in("In 2024 floods on September 12 people fled; 4.5 million people lost power.") == [
        ("4.5 million", "people")
    ]
    assert figures_in("Damage reached $4 billion dollars and 30% percent") == [("$4 billion", "dollars")]
