"""The extractive picker on handmade plans (real embedding model): the best sentence of each item for the subject,
and for "since", what the earlier reports did not already say."""

from __future__ import annotations

from datetime import date

from index.picking import Item, Plan, extractive
from index.results import Passage


def passage(n: int, text: str, day: int) -> Passage:
    return Passage(f"a{n}-v-0000", f"a{n}", text, "", "Daily", date(2024, 9, day), None)


EARLIER = passage(
    1, "The bridge over the Alden river was closed on Monday after inspectors found cracks in two of its piers.", 9
)
NEWER = passage(
    2,
    "The bridge over the Alden river was closed on Monday after inspectors found cracks in two of "
    "its piers. Engineers said on Wednesday that repairs to the piers will take six weeks and cost "
    "$12 million.",
    11,
)


def test_since_prefers_what_the_earlier_reports_did_not_say(embed_model):
    plan = Plan(
        "since",
        "Alden river bridge closure",
        (Item((NEWER,), "2024-09-11", date(2024, 9, 11)),),
        "",
        earlier=(EARLIER,),
    )
    sentences, citations, covered = extractive(plan, embed_model)
    assert covered and [s.text for s in sentences] == [
        "Engineers said on Wednesday that repairs to the piers will take six weeks and cost $12 million."
    ]
    assert sentences[0].day == date(2024, 9, 11) and citations[0].passage is NEWER


def test_an_item_off_the_subject_is_left_out_when_each_item_must_be_on_it(embed_model):
    off = passage(3, "The Harbor Lions won the basketball championship in overtime on Thursday night.", 12)
    plan = Plan(
        "outlets",
        "Alden river bridge closure",
        (Item((NEWER,), "Daily"), Item((off,), "Courier")),
        "",
        each_item_on_subject=True,
    )
    sentences, _, covered = extractive(plan, embed_model)
    assert covered and {s.label for s in sentences} == {"Daily"}
