"""Reading the time a question is about: 'this week', 'yesterday', 'on October 24', 'in 2023'."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

_MONTHS = {
    m: i + 1
    for i, m in enumerate(
        [
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ]
    )
}
_MONTHS.update({m[:3]: i for m, i in list(_MONTHS.items())})
_MONTHS["sept"] = 9
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))

_RELATIVE = [
    (re.compile(r"\b(today|tonight|this morning|this evening)\b", re.I), 0, 1),
    (re.compile(r"\byesterday\b", re.I), 1, 2),
    (re.compile(r"\b(this|past) weekend\b", re.I), 0, 4),
    (re.compile(r"\b(this|past|the last) week\b|\bthis past week\b", re.I), 0, 8),
    (re.compile(r"\blast week\b", re.I), 0, 14),
    (re.compile(r"\b(this|past|the last) month\b", re.I), 0, 31),
    (re.compile(r"\blast month\b", re.I), 0, 62),
]
_RECENT = (re.compile(r"\b(recently|lately|just|newly|latest|new|current(ly)?)\b", re.I), 0, 14)
_COUNT = r"(?:\d{1,3}|an?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a few|several|couple of)"
_WEEKDAY = r"(?:mon|tues|wednes|thurs|fri|satur|sun)day"
# Days dateparser resolves (search_dates): "3 days ago", "two weeks ago", "last Friday", "since Monday". Years ago
# are left alone: a question about an event 50 years ago is asked of the articles marking it now.
_PARSED = re.compile(
    rf"\b(?:{_COUNT}\s+(?P<unit>day|week|month)s?\s+ago|(?:last|this past|since)\s+{_WEEKDAY})\b", re.I
)
_PARSED_SPAN = {"day": (1, 3), "week": (3, 4), "month": (15, 16)}  # days before / after the day it names


@dataclass(frozen=True)
class TimeWindow:
    """The publication dates a question prefers, inclusive, and whether the question said so."""

    start: date
    end: date
    explicit: bool
    yearless: bool = False  # "on October 24": that day of any year counts (the latest is only a guess)

    def distance(self, day: date) -> int:
        """Days outside the window (0 inside); for a yearless window, outside its nearest yearly repeat."""
        if self.yearless:
            return min(self._shifted(day.year - self.end.year + shift).distance(day) for shift in (-1, 0, 1))
        if day < self.start:
            return (self.start - day).days
        if day > self.end:
            return (day - self.end).days
        return 0

    def _shifted(self, years: int) -> TimeWindow:
        def move(d: date) -> date:
            year = min(max(d.year + years, date.min.year), date.max.year)
            return _safe_date(year, d.month, d.day) or date(year, d.month, 28)

        return TimeWindow(move(self.start), move(self.end), self.explicit)


def question_window(question: str, as_of: date, default_days: int = 30) -> TimeWindow:
    """The window of publication dates the question is most likely about, as of a date."""
    explicit = _explicit_date(question, as_of)
    if explicit is not None:
        return explicit
    for pattern, end_back, span in _RELATIVE:
        if pattern.search(question):
            end = plus_days(as_of, -end_back)
            return TimeWindow(plus_days(end, -span), plus_days(end, 1), True)
    parsed = _parsed_day(question, as_of)
    if parsed is not None:
        day, unit, since = parsed
        if since:  # "since Monday": from that day on
            return TimeWindow(day, plus_days(as_of, 1), True)
        before, after = _PARSED_SPAN[unit]
        return TimeWindow(plus_days(day, -before), min(plus_days(day, after), plus_days(as_of, 1)), True)
    for pattern, end_back, span in [_RECENT]:
        if pattern.search(question):
            end = plus_days(as_of, -end_back)
            return TimeWindow(plus_days(end, -span), plus_days(end, 1), True)
    return TimeWindow(plus_days(as_of, -default_days), plus_days(as_of, 1), False)


def without_time_words(question: str) -> str:
    """The question without its named periods ("this week", "last month"): they are read into the time
    window, and as words they only match articles that say "this week" (roundups, briefings). Words such
    as "new" or "recently" stay: they also carry meaning ("the new prime minister")."""
    text = question
    for pattern, _, _ in _RELATIVE:
        text = pattern.sub(" ", text)
    text = _PARSED.sub(" ", text)
    return " ".join(text.split()) or question


_DATE_PHRASES = re.compile(
    rf"\b(?:on|of|from|since)?\s*(?:\d{{4}}-\d{{2}}-\d{{2}}|(?:{_MONTH_RE})\.?\s+\d{{1,2}}"
    rf"(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_RE})"
    rf"(?:,?\s+\d{{4}})?)\b",
    re.I,
)


def without_dates(text: str) -> str:
    """The text without the dates it names (as _explicit_date reads them) and without its named periods."""
    return " ".join(_DATE_PHRASES.sub(" ", without_time_words(text)).split())


def _parsed_day(question: str, as_of: date) -> tuple[date, str, bool] | None:
    """The day a relative phrase names ("3 days ago", "last Friday"), read by dateparser as of a date, its unit
    (day, week or month) and whether the question asks about the time since then."""
    found = _PARSED.search(question)
    if found is None:
        return None
    phrase = found.group(0)
    since = phrase.lower().startswith("since ")
    day = parse_day(phrase[6:] if since else phrase, as_of)
    return (day, found.group("unit") or "day", since) if day is not None else None


def parse_day(text: str, as_of: date) -> date | None:
    """The day a phrase names, as of a date: an ISO or written date ("September 11", "2024-09-11"), else what
    dateparser makes of it ("yesterday", "last Friday", "3 days ago", "two weeks ago"); never after as_of."""
    window = _explicit_date(text, as_of)
    if window is not None:  # a day's window starts the day before it; a month's or year's on its first day
        return plus_days(window.start, 1) if window.end - window.start == timedelta(days=4) else window.start
    found = _search_dates(text, as_of)
    day = found[0][1] if found else None
    return day if day is not None and day <= as_of else None


def find_day(text: str, as_of: date) -> tuple[date, str] | None:
    """The first day a text names (as parse_day reads it) and the words that name it."""
    found = _search_dates(text, as_of)
    if not found:
        return None
    phrase, when = found[0]
    day = parse_day(phrase, as_of) or when
    return (day, phrase) if day <= as_of else None


def _search_dates(text: str, as_of: date) -> list[tuple[str, date]]:
    """dateparser's search_dates as of a date (past dates preferred): (words, day) of each date found."""
    from datetime import datetime

    from dateparser.search import search_dates  # imported on first use: it takes a few tenths of a second

    try:
        found = search_dates(
            text,
            languages=["en"],
            settings={
                "RELATIVE_BASE": datetime(as_of.year, as_of.month, as_of.day, 12),
                "PREFER_DATES_FROM": "past",
                "RETURN_AS_TIMEZONE_AWARE": False,
            },
        )
    except (ValueError, OverflowError):
        return []
    return [(phrase, when.date()) for phrase, when in found or []]


def _explicit_date(question: str, as_of: date) -> TimeWindow | None:
    iso = re.search(r"\b(\d{4})-(\d{2})-(\d{2})\b", question)
    if iso:
        day = _safe_date(int(iso[1]), int(iso[2]), int(iso[3]))
        if day:
            return TimeWindow(plus_days(day, -1), plus_days(day, 3), True)
    md = re.search(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", question, re.I)
    dm = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\b(?:,?\s+(\d{{4}}))?", question, re.I)
    found = md or dm
    if found is not None:
        month, day_num, year = (found[1], found[2], found[3]) if md else (found[2], found[1], found[3])
        day = _resolve(int(year) if year else None, _MONTHS[month.lower()], int(day_num), as_of)
        if day:
            return TimeWindow(plus_days(day, -1), plus_days(day, 3), True, yearless=not year)
    my = re.search(rf"\b(?:in|during|since)\s+({_MONTH_RE})\b(?:\s+(\d{{4}}))?", question, re.I)
    if my:
        month = _MONTHS[my[1].lower()]
        year = int(my[2]) if my[2] else (as_of.year if month <= as_of.month else as_of.year - 1)
        start = _safe_date(year, month, 1)
        if start:
            end = plus_days(start.replace(day=28), 4).replace(day=1)
            return TimeWindow(start, plus_days(end, 2), True)
    year = re.search(r"\b(?:in|during|of)\s+((?:19|20)\d{2})\b", question)
    if year:
        y = int(year[1])
        return TimeWindow(date(y, 1, 1), plus_days(date(y, 12, 31), 7), True)
    return None


def _resolve(year: int | None, month: int, day: int, as_of: date) -> date | None:
    if year is not None:
        return _safe_date(year, month, day)
    candidate = _safe_date(as_of.year, month, day)
    if candidate and candidate > plus_days(as_of, 1):
        candidate = _safe_date(as_of.year - 1, month, day)
    return candidate


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def plus_days(day: date, days: int) -> date:
    """day + days, held within the dates Python can represent."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


EARLIEST, LATEST = date(1900, 1, 1), date(2200, 12, 31)  # the dates a user may ask "as of"


def parse_iso_date(text: str, what: str = "date") -> date:
    """A YYYY-MM-DD date a user typed, between EARLIEST and LATEST; InvalidInput with an example otherwise."""
    from .errors import InvalidInput

    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"{text[:40]!r} is not a {what} in the form YYYY-MM-DD, e.g. 2024-03-05.") from None
    if not EARLIEST <= day <= LATEST:
        raise InvalidInput(f"The {what} {text} is out of range ({EARLIEST} to {LATEST}).")
    return day
