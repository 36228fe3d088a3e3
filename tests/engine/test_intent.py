"""The kind of a question, read from its structure: cue phrases, the outlets the catalog knows, the subject left."""

from __future__ import annotations

from datetime import date

import pytest

from index.intent import named_outlets, read_intent
from index.story_view import outlet_name_key

AS_OF = date(2024, 9, 13)  # a Friday
OUTLETS = {outlet_name_key(o): o for o in ("cnn.com", "usatoday.com", "theweek.co.uk", "Gulf Herald")}


@pytest.mark.parametrize(
    "question, kind, subject",
    [
        ("What's the latest on Hurricane Delia?", "latest", "Hurricane Delia"),
        ("Any news on the Norland prime minister?", "latest", "Norland prime minister"),
        ("Latest updates about Ilse Varga", "latest", "Ilse Varga"),
        ("What has changed since Wednesday with Hurricane Delia?", "since", "Hurricane Delia"),
        ("Since Tuesday, what is new for Port Alden?", "since", "Port Alden"),
        ("Give me a timeline of the Varga crisis", "timeline", "Varga crisis"),
        ("How did the Port Alden flooding unfold?", "timeline", "Port Alden flooding"),
        ("What happened today?", "digest", ""),
        ("Summarise this week's news", "digest", ""),
        ("What are the top stories?", "digest", ""),
        ("How did CNN cover the midterm elections?", "outlets", "midterm elections"),
        ("Compare The Week and USA Today on the energy price cap", "outlets", "energy price cap"),
        ("What did the Gulf Herald say about the tram?", "outlets", "tram"),
    ],
)
def test_kinds_and_subjects(question, kind, subject):
    intent = read_intent(question, AS_OF, OUTLETS)
    assert (intent.kind, intent.subject) == (kind, subject)


@pytest.mark.parametrize(
    "question",
    [
        "Which company released its latest model this week?",  # "latest" as a word of the subject
        "What happened to the submarine that went missing?",  # a subject: a question to answer, not a digest
        "How did the central bank react to inflation?",  # no outlet the catalog knows
        "Who won the vote since the polls closed?",  # "since" an event, not a day
        "Which cities were hit?",
    ],
)
def test_other_questions_keep_the_default_path(question):
    assert read_intent(question, AS_OF, OUTLETS).kind == "answer"


def test_since_reads_the_day_as_of_the_date():
    intent = read_intent("What has changed since Wednesday with Hurricane Delia?", AS_OF, OUTLETS)
    assert intent.since == date(2024, 9, 11) and intent.window.start == date(2024, 9, 11)
    assert read_intent("What's new with Delia since September 1?", AS_OF, OUTLETS).since == date(2024, 9, 1)


def test_a_digest_covers_the_day_or_period_named():
    assert read_intent("What happened today?", AS_OF, OUTLETS).window.start == AS_OF
    yesterday = read_intent("What were the top stories yesterday?", AS_OF, OUTLETS).window
    assert (yesterday.start, yesterday.end) == (date(2024, 9, 12), date(2024, 9, 12))
    week = read_intent("Summarise this week's news", AS_OF, OUTLETS).window
    assert (week.start, week.end) == (date(2024, 9, 7), AS_OF)


def test_outlets_are_matched_by_the_outlet_field_whatever_the_spelling():
    assert named_outlets("CNN and USA Today", OUTLETS) == ("cnn", "usatoday")
    assert named_outlets("the week", OUTLETS) == ("theweek",)
    assert named_outlets("the Fed", OUTLETS) == ()
    assert outlet_name_key("www.theweek.co.uk") == outlet_name_key("The Week") == "theweek"
    assert outlet_name_key("college.usatoday.com") == "usatoday"


@pytest.mark.parametrize(
    "question",
    [
        "Which team won its first title since 1990?",  # a year: a quiz question, not "what changed since"
        "What changed since the 2019 election in Canada?",
        "What has changed since March 2021 in the housing market?",  # more than three months before the as-of date
    ],
)
def test_since_a_long_time_ago_or_an_event_is_a_default_question(question):
    assert read_intent(question, AS_OF, OUTLETS).kind == "answer"
