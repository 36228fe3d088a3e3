"""Reading the time a question is about, and the publication-date prior built on it."""

from __future__ import annotations

from datetime import date

from index.dates import question_window
from index.retrieve import date_weight

AS_OF = date(2026, 11, 23)


def test_this_week_is_the_days_before_the_as_of_date():
    window = question_window("Which cities were hit this week?", AS_OF)
    assert window.explicit and window.start <= date(2026, 11, 16) and window.end >= AS_OF
    assert window.distance(date(2026, 11, 20)) == 0
    assert window.distance(date(2026, 10, 1)) > 30


def test_a_question_without_time_words_prefers_the_last_month_but_says_so_loosely():
    window = question_window("Which cities were hit?", AS_OF)
    assert not window.explicit and window.distance(date(2026, 11, 1)) == 0


def test_a_day_with_its_year_is_that_day_only():
    window = question_window("What happened on October 24, 2023?", AS_OF)
    assert not window.yearless
    assert window.distance(date(2023, 10, 24)) == 0
    assert window.distance(date(2025, 10, 24)) > 300


def test_a_day_without_a_year_matches_that_day_in_any_year():
    window = question_window("What happened on October 24?", AS_OF)
    assert window.yearless
    for year in (2023, 2024, 2026):
        assert window.distance(date(year, 10, 24)) == 0
    assert window.distance(date(2024, 10, 10)) == 13
    assert window.distance(date(2024, 4, 24)) > 150


def test_a_yearless_day_near_new_year_wraps():
    window = question_window("What was announced on December 31?", date(2026, 1, 5))
    assert window.distance(date(2024, 12, 31)) == 0
    assert window.distance(date(2025, 1, 2)) == 0


def test_an_older_article_from_the_named_day_outweighs_an_undated_one():
    window = question_window("What did the report say on October 24?", AS_OF)
    assert date_weight(date(2023, 10, 24), window, AS_OF) > date_weight(None, window, AS_OF)
    assert date_weight(date(2027, 10, 24), window, AS_OF) < 0.1  # after the as-of date: not what was asked


def test_day_first_and_iso_dates():
    assert question_window("the 24th of October 2023", AS_OF).distance(date(2023, 10, 24)) == 0
    assert question_window("news from 2023-10-24", AS_OF).distance(date(2023, 10, 24)) == 0


def test_time_words_are_left_out_of_the_text_that_is_matched():
    from index.dates import without_time_words

    assert (
        without_time_words("Which automaker recalled 2.9 million vehicles this week?")
        == "Which automaker recalled 2.9 million vehicles ?"
    )
    assert without_time_words("Who became the new prime minister last week?") == "Who became the new prime minister ?"
    assert without_time_words("Who recently won the Emmy?") == "Who recently won the Emmy?"
    assert without_time_words("today") == "today"  # nothing left: the question as it was


def test_within_the_window_the_latest_report_weighs_a_little_more():
    window = question_window("Which cities were hit this week?", AS_OF)
    latest, earlier = date_weight(date(2026, 11, 22), window, AS_OF), date_weight(date(2026, 11, 17), window, AS_OF)
    assert latest > earlier > 0.75 * latest  # a slope, not a cliff: both are inside the week
    past = question_window("What did the council decide in March 2023?", AS_OF)
    assert date_weight(date(2023, 3, 30), past, AS_OF) > date_weight(date(2023, 3, 2), past, AS_OF)
    assert date_weight(date(2023, 3, 2), past, AS_OF) > date_weight(date(2026, 11, 20), past, AS_OF)


FRIDAY = date(2024, 3, 8)  # a Friday


def test_relative_days_are_read_by_dateparser_into_the_window():
    last_friday = question_window("What did the council decide last Friday?", FRIDAY)
    assert last_friday.explicit and last_friday.distance(date(2024, 3, 1)) == 0
    assert last_friday.distance(date(2024, 3, 8)) > 0  # not today's Friday
    ago = question_window("What was announced 3 days ago?", FRIDAY)
    assert ago.distance(date(2024, 3, 5)) == 0 and ago.distance(date(2024, 2, 25)) > 5
    weeks = question_window("Who resigned two weeks ago?", FRIDAY)
    assert weeks.distance(date(2024, 2, 23)) == 0 and weeks.distance(FRIDAY) > 3


def test_since_a_day_is_the_time_from_that_day_to_the_as_of_date():
    since = question_window("What has changed since Monday?", FRIDAY)
    assert since.start == date(2024, 3, 4) and since.distance(FRIDAY) == 0 and since.distance(date(2024, 3, 1)) > 0


def test_years_ago_is_left_to_the_default_window():
    assert not question_window("Which band released its first album 50 years ago?", FRIDAY).explicit


def test_relative_days_are_left_out_of_the_text_that_is_matched():
    from index.dates import without_time_words

    assert without_time_words("Who resigned two weeks ago?") == "Who resigned ?"
    assert without_time_words("What did the council decide last Friday?") == "What did the council decide ?"


def test_parse_day_reads_written_and_relative_days_and_never_the_future():
    from index.dates import parse_day

    assert parse_day("September 11", FRIDAY) == date(2023, 9, 11)
    assert parse_day("2024-03-01", FRIDAY) == date(2024, 3, 1)
    assert parse_day("yesterday", FRIDAY) == date(2024, 3, 7)
    assert parse_day("Monday", FRIDAY) == date(2024, 3, 4)
    assert parse_day("the landfall", FRIDAY) is None
