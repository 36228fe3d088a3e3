"""What kind of question is asked, read from the question's own structure: a cue phrase that names the kind
(English phrasing of news requests: "the latest on", "timeline of", "since <day>", "how did <outlet> cover"),
the outlets the catalog knows that it names, and the subject that is left once cues and time words are taken out.

Kinds: latest (the newest reports of a story), since (what the reports after a day add), timeline (a story's
reports in date order), digest (a period's top stories), outlets (one or two outlets' coverage side by side),
and answer (any other question: the default path)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from .dates import TimeWindow, find_day, plus_days, question_window, without_dates
from .story_view import outlet_name_key

Kind = Literal["answer", "latest", "since", "timeline", "digest", "outlets"]

_CHANGE = r"(?:changed?|new|different|happened|updates?|developments?|moved on)"
_DAYISH = (
    r"(?:(?:last|this|the|past)\s+)?"
    r"(?:yesterday|today|week|weekend|month|(?:mon|tues|wednes|thurs|fri|satur|sun)day"
    r"|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|\d{4}-\d\d-\d\d|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?[a-z]{3}"
    r"|(?:\d{1,2}|an?|one|two|three|four|five|six|seven|a few|several)\s+(?:days?|weeks?|months?)\s+ago)"
)
_SINCE = re.compile(rf"\bsince\s+(?={_DAYISH})", re.I)  # "since Tuesday", "since September 11", not "since 1990"
SINCE_DAYS = 92  # "what changed since" a day at most this long before the as-of date (else: a default question)
_TIMELINE = re.compile(
    r"\b(?:time\s?line|chronology)\b|\b(?:sequence|order) of events\b"
    r"|\bhow (?:did|has|have|do|does)\b(?P<subject>.+?)\b(?:unfold(?:ed)?|develop(?:ed)?|"
    r"evolve[d]?|play(?:ed)? out)\b",
    re.I,
)
_LATEST = re.compile(
    r"\b(?:the\s+)?(?:latest|newest|most recent)(?:\s+(?:news|updates?|developments?|reports?|"
    r"word))?\s+(?:on|about|in|with|from|regarding|for)\b"
    r"|\bwhat(?:'s|’s| is| are)\s+the\s+(?:latest|newest)\b"
    r"|\bany\s+(?:news|updates?|word|developments?)\s+(?:on|about|from|regarding|in|with)\b"
    r"|^\s*(?:give me |an? )?(?:news|updates?)\s+(?:on|about|regarding)\b"
    r"|\bupdate me on\b|\bwhat(?:'s|’s| is) new (?:with|on|about|in)\b"
    r"|\bwhere (?:do|does) (?:things|matters|it)\s+stand\b",
    re.I,
)
_DIGEST = re.compile(
    r"\bsummari[sz]e\b.*\bnews\b|\b(?:top|main|biggest|big)\s+(?:news|stories|headlines)\b"
    r"|\bnews\s+(?:roundup|digest|summary|briefing)\b|\b(?:in|making) the news\b"
    r"|^\s*what(?:'s|’s| is)?\s+(?:happened|happening|going on)\b|\bcatch me up\b"
    r"|\b(?:today'?s|this week'?s|yesterday'?s)\s+(?:news|headlines|stories)\b",
    re.I,
)
_OUTLETS = re.compile(
    r"\bhow (?:did|does|do|has|have|is|was|are|were)\s+(?P<who>.+?)\s+(?:cover(?:ed|ing)?|"
    r"report(?:ed|ing)?(?:\s+on)?|describe[ds]?|frame[ds]?|handle[ds]?)\b(?P<subject>.*)"
    r"|\bcompare\s+(?:the\s+)?(?:coverage\s+(?:of|by|in)\s+)?(?P<who2>.+?)(?:'s|’s)?\s+"
    r"(?:coverage\s+|reporting\s+|reports\s+)?(?:of|on|about|over)\s+(?P<subject2>.+)"
    r"|\bwhat (?:did|does|do|has|have)\s+(?P<who3>.+?)\s+(?:say|said|report|reported|write|wrote)"
    r"\s+(?:about|on|of)\s+(?P<subject3>.+)",
    re.I,
)
_FILLER = re.compile(
    r"^(?:(?:what|who|how|is|are|was|were|the|a|an|me|give|tell|show|any|about|on|of|in|to|with|"
    r"for|from|regarding|so|far|there|been|has|have|did|does|do|story|news|updates?|things|"
    r"happened|happening|going|and|stories|headlines|please|catch|up|world|lately|'s|’s)\b\s*)+"
    r"|(?:\b(?:so far|now|lately|today|please|story|news|in the news|the|and|'s|’s))+\s*$",
    re.I,
)
_TODAY = re.compile(r"\b(?:today|tonight|this morning|this evening)\b", re.I)
_YESTERDAY = re.compile(r"\byesterday\b", re.I)
_THIS = re.compile(r"\b(?:this|past|the last|this past)\s+(week|month)\b", re.I)
_RECENT_ONLY = re.compile(r"(?:what(?:'s|’s| is)\s+)?(?:the\s+)?(?:latest|newest)(?:\s+news)?\s*\??", re.I)
DIGEST_DAYS = 1  # a digest without a period asked for is of the as-of day (and the day before)


@dataclass(frozen=True)
class Intent:
    """A question's kind, its subject (the words to search for), and the time or outlets it names."""

    kind: Kind
    subject: str
    window: TimeWindow
    since: date | None = None
    outlets: tuple[str, ...] = field(default=())  # outlet_name_key of each, in the question's order


def read_intent(question: str, as_of: date, outlets: dict[str, str] | None = None) -> Intent:
    """The kind of a question, as of a date; `outlets` maps the catalog's outlet keys to their names."""
    window = question_window(question, as_of)
    default = Intent("answer", question, window)
    found = _OUTLETS.search(question)
    if found and outlets:
        who = found.group("who") or found.group("who2") or found.group("who3") or ""
        named = named_outlets(who, outlets)
        if named:
            subject = found.group("subject") or found.group("subject2") or found.group("subject3") or ""
            return Intent("outlets", _subject(subject) or _subject(question), window, outlets=named)
    since = _SINCE.search(question)
    if since and re.search(rf"\b{_CHANGE}\b", question, re.I):
        found_day = find_day(question[since.end() :], as_of)
        if found_day is not None and (as_of - found_day[0]).days <= SINCE_DAYS:
            day, phrase = found_day
            rest = question[: since.start()] + " " + question[since.end() :].replace(phrase, " ", 1)
            subject = _subject(re.sub(rf"\b{_CHANGE}\b", " ", rest, flags=re.I))
            if subject:
                return Intent("since", subject, TimeWindow(day, plus_days(as_of, 1), True), since=day)
    found = _TIMELINE.search(question)
    if found:
        subject = _subject(found.group("subject") or _cut(question, found))
        if subject:
            return Intent("timeline", subject, window)
    found = _DIGEST.search(question)
    if found and not _subject(_cut(question, found)):
        return Intent("digest", "", _period(question, window, as_of))
    found = _LATEST.search(question)
    if found:
        subject = _subject(_cut(question, found))
        if subject:
            return Intent("latest", subject, window)
        return Intent("digest", "", _period(question, window, as_of))
    return default


def _period(question: str, window: TimeWindow, as_of: date) -> TimeWindow:
    """The days a digest covers: the day named ("today", "yesterday"), the window named ("this week"), else
    the as-of day and the one before."""
    if _TODAY.search(question):
        return TimeWindow(as_of, as_of, True)
    if _YESTERDAY.search(question):
        return TimeWindow(plus_days(as_of, -1), plus_days(as_of, -1), True)
    named = _THIS.search(question)
    if named:  # this / the past week or month: its days up to the as-of date
        return TimeWindow(plus_days(as_of, -6 if named.group(1).lower() == "week" else -29), as_of, True)
    if window.explicit and not _RECENT_ONLY.fullmatch(question.strip()):
        return window
    return _day_window(as_of)


def named_outlets(text: str, outlets: dict[str, str]) -> tuple[str, ...]:
    """The catalog's outlets a text names (by outlet_name_key of its word runs), in order of appearance."""
    words = re.findall(r"[\w.&'’-]+", text)
    found: list[tuple[int, str]] = []
    for size in (4, 3, 2, 1):
        for i in range(len(words) - size + 1):
            key = outlet_name_key(" ".join(words[i : i + size]))
            if key in outlets and key not in {k for _, k in found}:
                found.append((i, key))
    return tuple(k for _, k in sorted(found))


def _cut(question: str, found: re.Match[str]) -> str:
    return question[: found.start()] + " " + question[found.end() :]


def _subject(text: str) -> str:
    """What is left to search for: the text without time words, question words and filler."""
    text = without_dates(" ".join(text.replace("?", " ").split()))
    text = re.sub(r"[?!.,;:]+", " ", text)
    previous = None
    while previous != text:
        previous = text
        text = _FILLER.sub("", text.strip()).strip()
    return text if re.search(r"\w{2,}", text) else ""


def _day_window(as_of: date) -> TimeWindow:
    return TimeWindow(plus_days(as_of, -DIGEST_DAYS), as_of, True)
