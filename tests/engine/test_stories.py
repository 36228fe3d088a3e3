"""The story assigner on hand-made articles, with the real embedding model and SQLite."""

from __future__ import annotations

import sqlite3
from datetime import date, timedelta

import numpy as np
import pytest

from index import stories
from index.stories import StoryIndex, StoryInput

RECALL = (
    "Acme Motors is recalling 120,000 Trailblazer SUVs because their rear brake lines can corrode and leak, "
    "the National Highway Traffic Safety Administration said Monday.\n\n"
    "The recall covers Trailblazer models built between 2019 and 2021 at the company's plant in Dayton, Ohio. "
    "A leaking brake line can lengthen the distance a vehicle needs to stop, raising the risk of a crash.\n\n"
    "Acme said it knew of 14 crashes linked to the problem but no injuries. Dealers will replace the brake lines "
    "free of charge, and owners will be notified by mail starting in April.\n\n"
    "Owners can check whether their vehicle is affected by entering its identification number on the NHTSA "
    "website or by calling Acme customer service."
)
RECALL_UPDATE = (
    "Acme Motors has more than doubled its recall of Trailblazer SUVs over corroding brake lines, to 310,000 "
    "vehicles, after regulators found the defect in models built as late as 2023, the National Highway Traffic "
    "Safety Administration said Tuesday.\n\n"
    "The recall now covers Trailblazer models built between 2019 and 2023 at the company's plant in Dayton, Ohio. "
    "A leaking brake line can lengthen the distance a vehicle needs to stop, raising the risk of a crash.\n\n"
    "Acme said it now knew of 31 crashes linked to the problem and two minor injuries. Dealers will replace the "
    "brake lines free of charge, and owners will be notified by mail starting in April.\n\n"
    "Shares of Acme fell 4% on the news. Analysts said the expanded recall could cost the carmaker $200 million."
)
RECALL_OTHER_OUTLET = (
    "Regulators say brake lines on Acme Motors' Trailblazer can rust through, and the carmaker is pulling back "
    "about 120,000 of the sport utility vehicles to fix them.\n\n"
    "In a filing with the NHTSA, Acme said fluid may leak from the corroded lines in the SUVs it assembled in "
    "Dayton from 2019 through 2021, so that drivers need longer to brake. The company is aware of 14 crashes.\n\n"
    "Owners who notice a soft brake pedal should contact a dealer, which will fit new lines at no cost."
)
OTHER_RECALL = (
    "Bolt Cars is recalling 45,000 Zephyr electric sedans because a software fault can stop the airbags from "
    "deploying in a crash, the National Highway Traffic Safety Administration said.\n\n"
    "The Zephyr sedans were built in 2022 at the company's factory in Fremont, California. Bolt Cars will update "
    "the airbag control software over the air, and owners need not visit a dealer.\n\n"
    "The company said it knew of no injuries related to the fault."
)
FLOODS = (
    "Heavy rain flooded streets across Lisbon on Tuesday, cutting power to thousands of homes and forcing the "
    "city to close two metro lines, Portugal's civil protection agency said.\n\n"
    "More than 300 people were evacuated from low-lying districts near the Tagus river."
)
LISBON_RECALL_DELAY = (
    "Heavy rain that flooded Lisbon on Tuesday has delayed repairs under Acme Motors' recall of Trailblazer SUVs "
    "with leaking brake lines, as dealers in the flooded districts near the Tagus closed.\n\n"
    "More than 300 people were evacuated, and Acme said owners in Portugal would be contacted once the water receded."
)
REGISTRATION_FORM = (
    "We will use the details you have shared to manage your registration. You agree to the processing, storage, "
    "sharing and use of this information for the purpose of managing your registration as described in our "
    "Privacy Policy.\n\nWould you like to receive the daily newsletter? The newsletter provides you with a daily "
    "digest of news and analysis. If you wish to object to the use of your data in this way, please tick here."
)
# Earlier reports in the store: an agency named in many of them is common, not a story's subject.
BACKGROUND = [
    (
        "Regulators open probe into driver-assist crashes",
        (
            "The National Highway Traffic Safety Administration has opened an investigation into 11 crashes involving "
            "cars using a driver-assist system, the agency said in documents posted on Friday."
        ),
    ),
    (
        "Road deaths fell last year, safety agency says",
        (
            "Traffic deaths in the United States fell 3% last year, the National Highway Traffic Safety Administration "
            "said, although pedestrian deaths rose for the fourth year in a row."
        ),
    ),
    (
        "New rule requires rear seat belt reminders",
        (
            "Carmakers will have to fit rear seat belt reminders in new vehicles from 2027 under a rule issued by the "
            "National Highway Traffic Safety Administration on Thursday."
        ),
    ),
    (
        "Storm brings snow to the Rockies",
        (
            "A late winter storm dropped a foot of snow on Denver and closed schools across Colorado, the National "
            "Weather Service said."
        ),
    ),
    (
        "Central bank holds rates",
        (
            "The Federal Reserve left interest rates unchanged on Wednesday and signalled two cuts later this year, "
            "Chair Jerome Powell told reporters in Washington."
        ),
    ),
]
DAY = date(2024, 3, 4)


@pytest.fixture
def index():
    return StoryIndex(sqlite3.connect(":memory:"))


@pytest.fixture
def make(embed_model, index):
    """Build a StoryInput with the real vector of its story text in `index` (or in the index given)."""

    def build(
        article_id: str, title: str, body: str, day: date, outlet: str, into: StoryIndex | None = None
    ) -> StoryInput:
        vector = embed_model.embed([(into or index).story_text(title, body)])[0]
        return StoryInput(article_id, title, body, day, outlet, vector)

    return build


def test_verbatim_copy_under_another_outlet_is_a_copy(index, make):
    original = index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    copy = index.add(make("b1", "Acme recalls 120,000 SUVs over brake lines | Metro News", RECALL, DAY, "Metro News"))
    assert original.new_story and original.copy_of is None
    assert copy.copy_of == "a1"
    assert copy.story_id == original.story_id


def test_copy_cut_short_under_a_new_headline_is_a_copy(index, make):
    index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    short = RECALL.split("\n\n", 2)
    copy = index.add(make("b1", "Trailblazer owners told brake lines may leak", "\n\n".join(short[:2]), DAY, "Metro"))
    assert copy.copy_of == "a1"


def test_identical_boilerplate_bodies_with_different_headlines_are_not_copies(index, make):
    index.add(make("w1", "Is the prime minister's budget a gamble?", REGISTRATION_FORM, DAY, "The Weekly"))
    other = index.add(make("w2", "Why lions are roaming the outskirts of Berlin", REGISTRATION_FORM, DAY, "The Weekly"))
    assert other.copy_of is None


def test_updated_version_joins_the_story_without_being_a_copy(index, make):
    first = index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    update = index.add(
        make(
            "a2",
            "Acme more than doubles SUV brake recall to 310,000",
            RECALL_UPDATE,
            DAY + timedelta(days=1),
            "Daily Wire",
        )
    )
    assert update.story_id == first.story_id
    assert update.copy_of is None and not update.new_story


def test_same_event_from_another_outlet_next_day_joins_the_story(index, make):
    first = index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    other = index.add(
        make(
            "c1",
            "Rusting brake lines prompt Trailblazer recall",
            RECALL_OTHER_OUTLET,
            DAY + timedelta(days=1),
            "Courier",
        )
    )
    assert other.story_id == first.story_id and other.copy_of is None


@pytest.mark.xfail(
    strict=True,
    reason="known limitation: two recalls announced by the same agency in one week "
    "score 0.55 (cosine 0.55, shared agency names); the weights fitted on the sample join them",
)
def test_same_topic_different_event_a_week_later_starts_a_new_story(index, make):
    for n, (title, body) in enumerate(BACKGROUND):
        index.add(make(f"bg{n}", title, body, DAY - timedelta(days=30 + n), "Daily Wire"))
    first = index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    other = index.add(
        make(
            "d1",
            "Bolt Cars recalls Zephyr sedans over airbag software",
            OTHER_RECALL,
            DAY + timedelta(days=6),
            "Daily Wire",
        )
    )
    assert other.new_story and other.story_id != first.story_id


def test_unrelated_article_the_same_day_starts_a_new_story(index, make):
    index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    assert index.add(make("f1", "Floods close Lisbon metro lines", FLOODS, DAY, "Daily Wire")).new_story


def test_an_article_must_fit_the_story_not_only_its_nearest_member(make):
    # Scores from the cosine alone (p >= 0.5 from cosine 0.5), so that only the story rule is under test.
    rule = StoryIndex(sqlite3.connect(":memory:"), weights=(10.0, 0.0, 0.0, 0.0, 0.0), bias=-5.0)
    floods = rule.add(make("m1", "Floods close Lisbon metro lines", FLOODS, DAY, "Daily Wire", rule))
    bridge = rule.add(
        make("m2", "Lisbon floods delay Acme SUV brake recall repairs", LISBON_RECALL_DELAY, DAY, "Courier", rule)
    )
    recall = rule.add(make("n1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Metro", rule))
    assert bridge.story_id == floods.story_id  # the bridge reads like the floods report...
    assert recall.new_story  # ...and like the recall, which is nothing like the floods: no chaining through it


def test_names_many_stored_articles_share_weigh_less_than_rare_ones(index, make):
    for n, (title, body) in enumerate(BACKGROUND):
        index.add(make(f"bg{n}", title, body, DAY - timedelta(days=30 + n), "Daily Wire"))
    item = make("d1", "Bolt Cars recalls Zephyr sedans over airbag software", OTHER_RECALL, DAY, "Daily Wire")
    weight = index.term_weights(index.signals(item), [])
    assert weight["n:highway"] < weight["n:zephyr"]  # the agency is in three stored reports, the car in none


def test_neighbours_are_asked_a_bounded_window_around_the_date(make):
    calls: list[tuple[date, date, int]] = []

    def neighbours(vector: np.ndarray, since: date, until: date, limit: int) -> list[tuple[str, float]]:
        calls.append((since, until, limit))
        return bounded.window_neighbours(vector, since, until, limit)

    bounded = StoryIndex(sqlite3.connect(":memory:"), neighbours)
    bounded.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire", bounded))
    bounded.add(
        make("c1", "Rusting brake lines prompt Trailblazer recall", RECALL_OTHER_OUTLET, DAY, "Courier", bounded)
    )
    window = timedelta(days=stories.WINDOW_DAYS)
    assert calls and all(c == (DAY - window, DAY + window, stories.NEIGHBOURS) for c in calls)


def test_articles_outside_the_window_are_never_candidates(index, make):
    index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    late = make(
        "c1",
        "Rusting brake lines prompt Trailblazer recall",
        RECALL_OTHER_OUTLET,
        DAY + timedelta(days=stories.WINDOW_DAYS + 1),
        "Courier",
    )
    assert index.candidates(late) == []
    assert index.add(late).new_story


def test_removing_an_original_keeps_its_copies_in_the_story(index, make):
    first = index.add(make("a1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Daily Wire"))
    index.add(make("b1", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Metro News"))
    index.add(make("b2", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Courier"))
    index.remove("a1")
    assert index.story_of("a1") is None
    assert index.members(first.story_id) == [("b1", None), ("b2", "b1")]
    later = index.add(make("b3", "Acme recalls 120,000 SUVs over brake lines", RECALL, DAY, "Gazette"))
    assert later.copy_of == "b1"


def test_a_paragraph_many_stored_articles_share_is_left_out_of_the_lead(index, make):
    promo = "Sign up for our morning newsletter and get the day's top stories in your inbox before breakfast."
    bodies = [RECALL, OTHER_RECALL, FLOODS][: stories.BOILERPLATE_ARTICLES]
    for n, body in enumerate(bodies):
        assert promo in index.lead(promo + "\n\n" + RECALL_UPDATE)
        index.add(make(f"n{n}", f"Story {n}", promo + "\n\n" + body, DAY, "Daily Wire"))
    assert index.lead(promo + "\n\n" + RECALL_UPDATE) == RECALL_UPDATE.replace("\n\n", "\n")
    index.remove("n0")
    assert promo in index.lead(promo + "\n\n" + RECALL_UPDATE)
