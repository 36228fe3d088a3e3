"""Follow-up questions rewritten into stand-alone ones from the conversation: "How many were evacuated there?"
after a question about Dresden is asked as "How many were evacuated in Dresden?", and "What about Lyon?"
repeats the previous question about Lyon. Rules over the parsed question, not over any question list."""

from __future__ import annotations

import re
from collections.abc import Sequence

from .results import Turn

_NAME = re.compile(r"\b(?:[A-Z][\w’'.-]*[\w’']|[A-Z])(?:\s+(?:of|de|la|del|van|von|the)?\s*[A-Z][\w’'.-]*[\w’'])*")
_PLACE_WORDS = re.compile(r"\b(?:there|here)\b", re.I)
_PRONOUN = re.compile(r"\b(?:it|its|they|them|their|he|him|his|she|her|this|that|these|those)\b", re.I)
_ELLIPSIS = re.compile(r"^\s*(?:and|what about|how about|what of|and what about)\s+(?P<rest>.+?)\s*\??\s*$", re.I)
_QUESTION_WORDS = {
    "what",
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "when",
    "why",
    "how",
    "is",
    "are",
    "was",
    "were",
    "did",
    "does",
    "do",
    "can",
    "could",
    "will",
    "would",
    "should",
    "has",
    "have",
    "had",
    "and",
    "the",
    "a",
    "an",
    "in",
    "on",
    "at",
    "of",
    "i",
    "tell",
    "give",
    "show",
    "any",
    "latest",
    "news",
}
_PREPOSITION = re.compile(r"\b(in|at|from|near|to|of|on|about|for|by|with|against)\s+$", re.I)


def entities(text: str) -> list[str]:
    """Names in a text (runs of capitalised words), a sentence's first word only when a run goes on."""
    found = []
    for match in _NAME.finditer(text):
        name = match.group(0).strip(" .")
        words = name.split()
        if words and words[0].lower() in _QUESTION_WORDS:
            words = words[1:]
        if not words or (match.start() == 0 and len(words) == 1 and not name.isupper()):
            continue
        found.append(" ".join(words))
    return found


def standalone(question: str, history: Sequence[Turn]) -> str:
    """The question as it would be asked without the conversation (itself when it stands alone)."""
    if not history:
        return question
    previous = history[-1]
    before = entities(previous.question) or entities(previous.answer)[:1]
    if not before:
        return question
    ellipsis = _ELLIPSIS.match(question)
    if ellipsis and not _PRONOUN.search(ellipsis.group("rest")):
        subject = ellipsis.group("rest").rstrip("?").strip()
        replaced = previous.question.replace(before[-1], subject, 1)
        return replaced if replaced != previous.question else f"{previous.question.rstrip('?')} ({subject})?"
    if entities(question) and not (_PLACE_WORDS.search(question) or _PRONOUN.search(question)):
        return question  # it names its own subject
    rewritten = question
    if _PLACE_WORDS.search(rewritten):
        place = before[-1]
        rewritten = _PLACE_WORDS.sub(
            lambda m: f"in {place}" if not _PREPOSITION.search(rewritten[: m.start()]) else place, rewritten, count=1
        )
    elif _PRONOUN.search(rewritten):
        subject = before[0]
        rewritten = _PRONOUN.sub(lambda m: _as_pronoun(m.group(0), subject), rewritten, count=1)
    else:
        rewritten = f"{question.rstrip(' ?')} ({', '.join(dict.fromkeys(before))})?"
    return rewritten


def _as_pronoun(pronoun: str, subject: str) -> str:
    """The subject in the pronoun's place (possessives keep their 's)."""
    if pronoun.lower() in {"its", "their", "his"}:
        return f"{subject}'s"
    if pronoun.lower() == "her":
        return subject
    return subject
