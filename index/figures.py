"""Figures that change over time: a number an answer's sentences give for the same thing (the noun it counts,
"12 people", "27 people") in reports of one story. Values from different days are updates ("12 on 2024-09-11,
27 on 2024-09-12"), not a contradiction; different values from two outlets on one day are a disagreement, said
as such."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from .results import Answer, Figure, Update
from .text import terms

# A number ("12", "200,000", "4.5", "$4 billion") and the word after it (what it counts).
_FIGURE = re.compile(
    r"(?<![\w.,/$-])(?P<value>\$?\d{1,3}(?:,\d{3})+(?:\.\d+)?|\$?\d+(?:\.\d+)?)"
    r"(?P<scale>\s+(?:million|billion|trillion|thousand|percent))?(?P<pct>%)?"
    r"\s+(?P<noun>[A-Za-z][A-Za-z-]+)"
)
_NOT_COUNTED = frozenset(
    """a an the of in on at to and or but by for from with as than that which who is are was
were be been has have had will would can could may might more less about around nearly almost over under after
before since until when while per each this these those its their his her our your it they he she we you am pm
a.m p.m years year days day weeks week months month hours hour minutes minute seconds percent""".split()
)
_MONTHS = frozenset(
    "january february march april may june july august september october november december jan feb "
    "mar apr jun jul aug sep sept oct nov dec".split()
)


@dataclass(frozen=True)
class _Seen:
    key: tuple[str, str]  # (story, counted noun stemmed)
    noun: str
    value: str
    day: date | None
    outlet: str | None
    citation: int


def figures_in(text: str) -> list[tuple[str, str]]:
    """(value, noun) of each counted figure in a sentence: years and days of a month are not figures."""
    out = []
    for m in _FIGURE.finditer(text):
        value, noun = m.group("value"), m.group("noun")
        before = text[: m.start()].split()
        if noun.lower() in _NOT_COUNTED or (before and before[-1].lower().strip(".,") in _MONTHS):
            continue
        if re.fullmatch(r"(?:1[89]|20)\d\d", value) and not m.group("scale"):
            continue  # a year
        scale = (m.group("scale") or "").strip()
        shown = f"{value} {scale}".strip() + (m.group("pct") or "")
        out.append((shown, noun))
    return out


def updates(answer: Answer, story_of: Callable[[str], str]) -> tuple[Update, ...]:
    """The figures the answer's sentences give differently for one story: updates over days, disagreements of
    outlets on one day (each value with the citation of the sentence that gives it)."""
    by_number = {c.number: c for c in answer.citations}
    seen: list[_Seen] = []
    for s in answer.sentences:
        cited = [by_number[n] for n in s.citations if n in by_number]
        if not cited:
            continue
        source = cited[0]
        for value, noun in figures_in(s.text):
            stems = terms(noun)
            if stems:
                seen.append(
                    _Seen(
                        (story_of(source.passage.article_id), stems[0]),
                        noun,
                        value,
                        source.passage.published,
                        source.passage.outlet,
                        source.number,
                    )
                )
    out: list[Update] = []
    for key in dict.fromkeys(f.key for f in seen):
        group = [f for f in seen if f.key == key]
        if len({f.value for f in group}) < 2:
            continue
        noun = group[0].noun
        days = sorted({f.day for f in group if f.day is not None})
        for day in days:  # one day, two outlets, two values
            that_day = [f for f in group if f.day == day]
            if len({f.value for f in that_day}) > 1 and len({f.outlet for f in that_day}) > 1:
                out.append(Update(noun, "disagreement", _distinct(that_day, lambda f: (f.value, f.outlet))))
        if len(days) > 1:
            ordered = sorted((f for f in group if f.day is not None), key=lambda f: f.day or date.min)
            values = _distinct(ordered, lambda f: (f.value, f.day))
            if len({v.value for v in values}) > 1:
                out.append(Update(noun, "update", values))
    return tuple(out)


def _distinct(found: list[_Seen], key: Callable[[_Seen], object]) -> tuple[Figure, ...]:
    kept: dict[object, Figure] = {}
    for f in found:
        kept.setdefault(key(f), Figure(f.value, f.day, f.outlet, f.citation))
    return tuple(kept.values())
