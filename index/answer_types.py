"""What a question asks for (a name, a place, a number, a date) and the short answers of that kind a sentence holds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from .text import STOP_WORDS, lower_case_words, term_set

Kind = Literal["name", "place", "number", "date"]

_WANTS_NUMBER = re.compile(
    r"\bhow (?:many|much|long|old|far|big|high|tall|large|fast|often)\b"
    r"|\b(?:what|which) (?:\w+ )?(?:percentage|percent|share|number|amount|price|age|sum|"
    r"proportion)\b",
    re.I,
)
_WANTS_DATE = re.compile(
    r"^\s*when\b|\b(?:what|which) (?:day|date|year|month)\b|\bwhen (?:will|did|does|is|was)\b", re.I
)
_WANTS_PLACE = re.compile(
    r"^\s*where\b|\bwhere (?:is|was|are|were|did|does|will)\b|\b(?:what|which) (?:country|"
    r"countries|city|cities|state|states|town|county|province|region|island|nation|capital|"
    r"continent)\b",
    re.I,
)
_WANTS_NAME = re.compile(
    r"\b(?:who|whom|whose|which)\b|\bwhat (?:is|was|are|were) (?:the |its |their )?names?\b"
    r"|\bwhat (?:company|team|name|title)\b",
    re.I,
)

_MONTH = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?"
    r"|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
_DATE = re.compile(
    rf"\b(?:(?:early|mid|late)[\s-]+)?(?:{_MONTH}\s+{_DAY}(?:,?\s+(?:19|20)\d\d)?|{_DAY}\s+{_MONTH}(?:\s+(?:19|20)\d\d)?"
    rf"|{_MONTH}(?:\s+(?:19|20)\d\d)?|(?:19|20)\d\d)(?!\w)"
    rf"|\b(?:next|last|this|on|by) (?:week|month|year|spring|summer|fall|autumn|winter|{_WEEKDAY})\b"
    rf"|\b{_WEEKDAY}\b"
)
_SCALE = r"(?:\s(?:million|billion|trillion|thousand|hundred))"
_NUMBER = re.compile(
    rf"(?:[$€£¥]\s?)?(?<![\w.,])\d[\d,]*(?:\.\d+)?(?!\w|[.,]\d)(?:\s?(?:%|percent\b|per cent\b))?{_SCALE}?"
    r"|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozens?|hundreds|thousands|millions)\b"
)
_YEAR = re.compile(r"^(?:19|20)\d\d$")
_TITLES = "Mr Mrs Ms Dr Gov Sen Rep Gen Lt Col Sgt Capt Prof".split()
_TITLE = rf"(?:{'|'.join(_TITLES)}|St)\."  # "Gov. Ron DeSantis"
# A title names no one by itself: 'Gov.' in 'Gov. Ron DeSantis' asked about Governor Ron DeSantis is no answer.
TITLE_TERMS = frozenset(
    term_set(
        " ".join(_TITLES) + " president governor senator representative mayor minister "
        "prime secretary former king queen prince princess chancellor judge"
    )
)
_NAME_WORD = rf"(?:{_TITLE}|[A-Z][\w’'&-]*(?:\.[A-Z]\.?)*|\d+-?(?!(?:st|nd|rd|th)(?:\b|-))[A-Za-z][\w-]*)"
_CONNECTORS = ("of", "the", "de", "del", "du", "van", "von", "al", "for", "&")  # inside names: 'Bank of England'
_NAME = re.compile(rf"(?<![\w’'-]){_NAME_WORD}(?:\s+(?:(?:{'|'.join(_CONNECTORS)})\s+)*{_NAME_WORD})*")
_INSIDE = re.compile(r"[a-z,;:]\s+([A-Z][\w’'&-]*)")
_ATTRIBUTION = re.compile(r"\b(?:according to|told|confirmed to|reported by|said to)\s+(?:the\s+)?$", re.I)
_SENTENCE_START = re.compile(r"^[\s\"'“‘(\[-]*")
_DATE_WORD = re.compile(rf"^(?:{_MONTH}|{_WEEKDAY})$")
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.I)
_TRAILING = re.compile(r"(?:’s|'s|[’'.,;:-])+$")


def asks_for(question: str) -> Kind | None:
    """The kind of short answer a question asks for, or None (why, how, what happened...)."""
    if _WANTS_NUMBER.search(question):
        return "number"
    if _WANTS_DATE.search(question):
        return "date"
    if _WANTS_PLACE.search(question):
        return "place"
    if _WANTS_NAME.search(question):
        return "name"
    return None


def answer_spans(
    kind: Kind | None, question: str, sentence: str, names: Iterable[str] | None = None, headline: bool = False
) -> list[str]:
    """The short answers of the kind asked for in a sentence, in order, leaving out what the question already
    says. A capitalised word starting the sentence is a name when `names` (words the texts capitalise inside
    sentences) holds it, or, but in a headline ('Chipmaker opens a plant'), when it is not a common word."""
    if kind is None:
        return []
    asked = term_set(question, number_words=True)
    if kind == "number":
        found = [_with_unit(m, sentence, asked) for m in _NUMBER.finditer(sentence) if not _is_date_part(m, sentence)]
    elif kind == "date":
        found = [_TRAILING.sub("", m.group(0)) for m in _DATE.finditer(sentence)]
    else:
        found = _names(sentence, None if names is None else set(names), headline)
    out: list[str] = []
    for span in found:
        words = term_set(span, number_words=True)
        if words and not words <= asked and span not in out and not (kind == "number" and _YEAR.match(span)):
            out.append(span)
    return out


def answer_type_fit(question: str, sentence: str) -> float:
    """1.0 when the sentence holds the kind of thing the question asks for (a name, a number, a date)."""
    kind = asks_for(question)
    if kind is None:
        return 0.5
    spans = answer_spans(kind, question, sentence)
    return min(1.0, len(spans) / 2) if kind in ("name", "place") else float(bool(spans))


def names_inside(text: str) -> set[str]:
    """The capitalised words a text writes inside sentences (after a lower-case word or a comma): names."""
    return {m.group(1) for m in _INSIDE.finditer(text)}


def _names(sentence: str, names: set[str] | None, headline: bool) -> list[str]:
    start = _SENTENCE_START.match(sentence)
    first = start.end() if start else 0
    out = []
    for match in _NAME.finditer(sentence):
        if _ATTRIBUTION.search(sentence, 0, match.start()):  # "according to Forbes": who says it, not the answer
            continue
        words = match.group(0).split()
        if match.start() == first and _starts_sentence(words, names, headline):
            words.pop(0)
            while words and words[0] in _CONNECTORS:  # 'Shares of Intel' -> 'Intel'
                words.pop(0)
        while words and _DATE_WORD.match(words[-1]):  # "the Denver Broncos Tuesday"
            words.pop()
        while words and _DATE_WORD.match(words[0]):
            words.pop(0)
        span = _TRAILING.sub("", _LEADING.sub("", " ".join(words)))
        if span:
            out.append(span)
    return out


def _starts_sentence(words: list[str], names: set[str] | None, headline: bool) -> bool:
    """The run's first word is capitalised only because it starts the sentence ('In New Jersey', 'Meanwhile',
    'Shares of Intel'): a stop word, a common word (one written in lower case inside sentences) that `names` lacks,
    or a lone word starting a headline that `names` lacks."""
    first = words[0].lower()
    if names is not None and words[0] in names:
        return False
    if first in STOP_WORDS:
        return True
    common = first in lower_case_words()
    return (headline or common) if len(words) == 1 else (common and names is not None)


def _with_unit(match: re.Match[str], sentence: str, asked: set[str]) -> str:
    """A number with the word after it when the question asks for that unit ('187 minutes', '3 vehicles')."""
    after = re.match(r"[\s-]+([A-Za-z]+)", sentence[match.end() :])
    if after and term_set(after.group(1)) & asked:
        return match.group(0) + sentence[match.end() : match.end() + after.end()]
    return match.group(0)


def _is_date_part(match: re.Match[str], sentence: str) -> bool:
    """'19' in 'June 19', '2022' in 'June 19, 2022': a date's number is not a count."""
    before = sentence[max(0, match.start() - 12) : match.start()]
    return bool(re.search(rf"{_MONTH}\s+(?:{_DAY},?\s+)?$", before))
