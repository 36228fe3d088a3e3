"""Checks a written answer's citations against the passages it cites, for any answerer.

The text is split into sentences (index.text) and each sentence's markers ([1], [1, 2], [1][3], [1-3]) are parsed;
numbers that match no passage are removed. A passage supports a sentence when all of these hold:

- numbers: every number written in digits in the sentence occurs in the passage (a veto);
- names: at least NAME_THRESHOLD of its capitalised words (names, not the sentence's first word unless it
  is an acronym or starts a run of capitalised words) occur in the passage;
- overlap: at least OVERLAP_THRESHOLD of its content words (index.text.terms, small number words as
  digits) occur in the passage, whose title, outlet and date count too; or, with an embedding model, the
  passage shares at least COSINE_MIN_OVERLAP of them and the cosine of sentence and passage embeddings is at
  least COSINE_THRESHOLD.

Cited passages that support a sentence keep their citation; the others are removed. A sentence that cites
several passages may be supported by them together (the same tests on their union). Otherwise it is
re-cited to the best retrieved passage that supports it, or dropped; so are sentences without content words
and sentences that mention someone (@everyone, @here, <@id>): a ping is never an answer. Kept sentences are
renumbered so the citations hold only the cited passages, in order of first use, each saying where its sentences
rest in its passage (`Citation.quoted`: the sentence itself when quoted, else the passage sentence sharing most of
its words). The thresholds were set on RealTime QA questions (docs/llm.md gives the figures).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from .answer import quotable_sentences
from .results import Citation, Passage, Sentence
from .text import clip, term_set, terms
from .text import split_sentences as sentences_of

OVERLAP_THRESHOLD = 0.5  # share of a sentence's content words found in the passage
COSINE_THRESHOLD = 0.65  # MiniLM cosine of sentence and passage, when an embedding model is given
COSINE_MIN_OVERLAP = 0.2  # the cosine is consulted only for passages sharing this share of content words
NAME_THRESHOLD = 0.67  # share of the sentence's capitalised words (names) found in the passage
UNION_MIN_SHARE = 0.2  # in a multi-source sentence, what each kept citation must cover on its own
MAX_CITATIONS = 3  # citations kept per sentence (the best supporting ones)
SPAN_MIN_SHARE = 0.4  # a paraphrase rests on the passage sentence holding at least this share of its content words

_MARKER = re.compile(
    r"\[\s*(?:(?:passage|source|doc)\s*)?(\d{1,3}(?:\s*(?:[,;]|–|-|and)\s*(?:(?:passage|source|doc)\s*)?\d{1,3})*)\s*\]",
    re.IGNORECASE,
)
_CAPITALISED = re.compile(r"\b(?:[A-Z]\.){2,}|\b[A-Z][A-Za-z]+|\b\d[\d,.]*\d|\b\d\b")
_MENTION = re.compile(r"@(?:everyone|here)\b|<[@#][!&]?\d+>|(?<![\w.])@\w", re.IGNORECASE)
_NAME_RUN = re.compile(r"[A-Z][A-Za-z]+\s+[A-Z]")
_DISCOURSE = {
    "however",
    "meanwhile",
    "additionally",
    "overall",
    "furthermore",
    "moreover",
    "instead",
    "still",
    "yet",
    "although",
    "though",
    "today",
    "yesterday",
    "tomorrow",
    "finally",
    "first",
    "second",
    "third",
    "also",
    "yes",
    "in",
    "on",
    "at",
    "as",
    "while",
    "since",
    "after",
    "before",
}
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_BULLET = re.compile(r"^\s*(?:#+|>|[-*•]|\d+[.)])\s+")
_MARK_AFTER_STOP = re.compile(r"([.!?]+[\"'”’)]*)((?:\s*\[[^\[\]]{1,40}\])+)")
_SOURCES = re.compile(r"^\s*(?:#+\s*)?(?:sources|references|citations|passages)\s*:?\s*$", re.I | re.M)


@dataclass(frozen=True)
class SentenceCheck:
    """What the checker decided about one sentence of the model's text."""

    text: str
    cited: tuple[int, ...]
    kept: tuple[int, ...]
    verdict: str  # "kept", "union", "recited", "dropped"
    reason: str
    overlap: float
    cosine: float | None = None


@dataclass(frozen=True)
class CheckReport:
    """Counts and reasons: removed markers, dropped and re-cited sentences."""

    sentences: tuple[SentenceCheck, ...]
    removed_markers: tuple[int, ...]
    removed_citations: int

    @property
    def kept(self) -> int:
        """Sentences kept (including re-cited ones)."""
        return sum(1 for s in self.sentences if s.verdict != "dropped")

    @property
    def dropped(self) -> tuple[SentenceCheck, ...]:
        """Sentences removed, with their reasons."""
        return tuple(s for s in self.sentences if s.verdict == "dropped")

    @property
    def recited(self) -> int:
        """Sentences whose citation was moved to the passage that supports them."""
        return sum(1 for s in self.sentences if s.verdict == "recited")

    def notes(self) -> tuple[str, ...]:
        """Short lines for Answer.notes."""
        lines = [
            f"citation check: {self.kept} of {len(self.sentences)} sentences kept, "
            f"{len(self.dropped)} dropped, {self.recited} re-cited, "
            f"{len(self.removed_markers)} invalid markers removed, "
            f"{self.removed_citations} unsupporting citations removed"
        ]
        if self.removed_markers:
            lines.append("invalid citation numbers: " + ", ".join(str(n) for n in self.removed_markers))
        for s in self.dropped:
            lines.append(f"dropped ({s.reason}): {clip(s.text, 80)}")
        return tuple(lines)


@dataclass(frozen=True)
class CheckResult:
    """The checked answer: kept sentences renumbered, their citations, and the report."""

    sentences: tuple[Sentence, ...]
    citations: tuple[Citation, ...]
    report: CheckReport = field(repr=False)


def parse_markers(text: str) -> tuple[str, tuple[int, ...]]:
    """Remove citation markers from a sentence; returns the clean text and the numbers in order."""
    numbers: list[int] = []

    def take(match: re.Match[str]) -> str:
        parts = re.split(r"\s*(?:[,;]|and)\s*", match.group(1), flags=re.IGNORECASE)
        for part in parts:
            part = re.sub(r"(?i)passage|source|doc", "", part).strip()
            bounds = re.split(r"\s*(?:–|-)\s*", part)
            if len(bounds) == 2 and bounds[0].isdigit() and bounds[1].isdigit():
                lo, hi = int(bounds[0]), int(bounds[1])
                numbers.extend(range(lo, hi + 1) if 0 <= hi - lo < 20 else (lo, hi))
            elif part.isdigit():
                numbers.append(int(part))
        return " "

    clean = _MARKER.sub(take, text)
    clean = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s{2,}", " ", clean)).strip()
    return clean, tuple(dict.fromkeys(numbers))


def split_sentences(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """Sentences with their citation numbers; a marker just after a full stop goes with the sentence before."""
    out = []
    for line in _SOURCES.split(text.replace("**", ""), maxsplit=1)[0].splitlines():
        line = _MARK_AFTER_STOP.sub(r"\2\1", _BULLET.sub("", line).strip())
        pieces: list[str] = []
        for piece in sentences_of(line):
            if pieces and not _MARKER.sub("", piece).strip(" .,;:!?"):  # markers alone go with the sentence before
                pieces[-1] = f"{pieces[-1]} {piece}"
            else:
                pieces.append(piece)
        for piece in pieces:
            clean, numbers = parse_markers(piece)
            if clean or numbers:
                out.append((clean, numbers))
    return out


def content_words(text: str) -> set[str]:
    """The terms of a text that carry meaning, small number words as digits (index.text.terms)."""
    return term_set(text, number_words=True)


def names_in(text: str) -> set[str]:
    """Capitalised words, initialisms and numbers (the specifics a wrong answer gets wrong), as content words.

    The sentence's first word counts only when it is an acronym or starts a run of capitalised words.
    """
    text = text.strip().lstrip("\"'“‘(")
    found = set()
    for match in _CAPITALISED.finditer(text):
        word = match.group(0)
        if match.start() == 0 and not word.replace(".", "").isupper() and not _NAME_RUN.match(text):
            continue
        if word.lower() not in _DISCOURSE:
            found |= term_set(word, number_words=True)
    return found


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits in the text (thousands separators removed)."""
    return {t for t in terms(text) if _NUMBER.match(t)}


def overlap(sentence_words: set[str], passage_words: set[str], empty: float = 0.0) -> float:
    """Share of the sentence's content words that occur in the passage (`empty` when it has none)."""
    if not sentence_words:
        return empty
    return len(sentence_words & passage_words) / len(sentence_words)


def passage_support_text(passage: Passage) -> str:
    """What a sentence may draw on from a passage: its text, title, outlet and date."""
    parts = [passage.title or "", passage.outlet or "", passage.text]
    if passage.published:
        d = passage.published
        parts.append(f"{d.isoformat()} {d.strftime('%B')} {d.day} {d.year}")
    return "\n".join(parts)


def check_citations(text: str, passages: Sequence[Passage], *, embed_model: Any | None = None) -> CheckResult:
    """Check every sentence of text against the passages it cites (numbered from 1 in order)."""
    words = [content_words(passage_support_text(p)) for p in passages]
    embedder = _Embedder(embed_model, passages)
    checks: list[SentenceCheck] = []
    removed: list[int] = []
    removed_citations = 0
    for sentence, numbers in split_sentences(text):
        valid = tuple(n for n in numbers if 1 <= n <= len(passages))
        removed.extend(n for n in numbers if n not in valid)
        check = _check_one(sentence, numbers, valid, words, embedder)
        if check.verdict != "dropped" and _MENTION.search(sentence):  # a ping is never an answer
            check = replace(check, kept=(), verdict="dropped", reason="mentions someone")
        if check.verdict in ("kept", "union"):
            removed_citations += len(set(valid) - set(check.kept))
        checks.append(check)
    report = CheckReport(tuple(checks), tuple(removed), removed_citations)
    sentences, citations = _renumber(checks, passages)
    return CheckResult(sentences, citations, report)


def _check_one(
    sentence: str, cited: tuple[int, ...], valid: tuple[int, ...], words: list[set[str]], embedder: _Embedder
) -> SentenceCheck:
    s_words = content_words(sentence)
    if not s_words:
        return SentenceCheck(sentence, cited, (), "dropped", "no checkable content", 0.0)
    numbers, names = numbers_in(sentence), names_in(sentence)
    scores = {n: overlap(s_words, words[n - 1]) for n in range(1, len(words) + 1)}

    def gate(pool: set[str]) -> str:  # the veto on specifics: "" when the pool has them
        if not numbers <= pool:
            return "number not in passage"
        return "" if overlap(names, pool, empty=1.0) >= NAME_THRESHOLD else "names not in passage"

    def supports(n: int) -> bool:
        if gate(words[n - 1]) or scores[n] < COSINE_MIN_OVERLAP:
            return False
        return scores[n] >= OVERLAP_THRESHOLD or embedder.cosine(sentence, n) >= COSINE_THRESHOLD

    alone = [n for n in valid if supports(n)]
    union = set().union(*(words[n - 1] for n in valid))
    together = len(valid) > 1 and not gate(union) and overlap(s_words, union) >= OVERLAP_THRESHOLD
    if alone or together:
        kept: list[int] = []
        covered: set[str] = set()
        for n in sorted(valid, key=lambda n: -scores[n]):
            new = (s_words & words[n - 1]) - covered
            if n in alone or (together and new and scores[n] >= UNION_MIN_SHARE):
                kept.append(n)
                covered |= s_words & words[n - 1]
        kept = [n for n in valid if n in kept[:MAX_CITATIONS]]
        verdict, why = ("kept", "supported") if alone else ("union", "supported by its sources together")
        return SentenceCheck(
            sentence, cited, tuple(kept), verdict, why, overlap(s_words, union), embedder.best(sentence, kept)
        )
    for n in sorted(scores, key=lambda n: -scores[n]):
        if n not in valid and supports(n):
            return SentenceCheck(
                sentence, cited, (n,), "recited", f"supported by passage {n}", scores[n], embedder.best(sentence, (n,))
            )
    best_valid = max(valid, key=lambda n: scores[n], default=None)
    if not cited:
        reason = "no citation"
    elif best_valid is None:
        reason = "invalid citation"
    else:
        best = scores[best_valid]
        reason = f"unsupported (overlap {best:.2f})" if best < OVERLAP_THRESHOLD else gate(words[best_valid - 1])
        reason = reason or f"unsupported (cosine below {COSINE_THRESHOLD})"
    return SentenceCheck(
        sentence,
        cited,
        (),
        "dropped",
        reason,
        scores[best_valid] if best_valid else 0.0,
        embedder.best(sentence, valid),
    )


def _renumber(
    checks: Sequence[SentenceCheck], passages: Sequence[Passage]
) -> tuple[tuple[Sentence, ...], tuple[Citation, ...]]:
    mapping: dict[int, int] = {}
    quoted: dict[int, set[tuple[int, int]]] = {}
    sentences = []
    for check in checks:
        if check.verdict == "dropped":
            continue
        for n in check.kept:
            mapping.setdefault(n, len(mapping) + 1)
            span = support_span(check.text, passages[n - 1])
            if span is not None:
                quoted.setdefault(n, set()).add(span)
        sentences.append(Sentence(check.text, tuple(mapping[n] for n in check.kept)))
    citations = tuple(
        Citation(new, passages[old - 1], quoted=tuple(sorted(quoted.get(old, ())))) for old, new in mapping.items()
    )
    return tuple(sentences), citations


def support_span(sentence: str, passage: Passage) -> tuple[int, int] | None:
    """Where a sentence rests in a passage's text: where it stands when quoted word for word, else the passage
    sentence sharing most of its content words (at least SPAN_MIN_SHARE of them, and two), else None."""
    words = sentence.split()
    found = re.search(r"\s+".join(map(re.escape, words)), passage.text) if words else None
    if found:
        return found.span()
    said = content_words(sentence)
    best, shared = None, 0
    for text, span in quotable_sentences(passage):
        common = len(said & content_words(text))
        if common > shared:
            best, shared = span, common
    return best if shared >= max(2, SPAN_MIN_SHARE * len(said)) else None


class _Embedder:
    """Lazy, cached cosine similarities: a passage is embedded only when a sentence needs it."""

    def __init__(self, model: Any | None, passages: Sequence[Passage]) -> None:
        self.model = model
        self.passages = passages
        self.vectors: dict[object, list[float]] = {}

    def _vector(self, key: object, text: str) -> list[float]:
        if key not in self.vectors:
            assert self.model is not None, "similarities need an embedding model"
            self.vectors[key] = _unit(self.model.get_text_embedding(text))
        return self.vectors[key]

    def cosine(self, sentence: str, n: int) -> float:
        """Cosine of sentence and passage n; -1 without a model."""
        if self.model is None:
            return -1.0
        a = self._vector(("s", sentence), sentence)
        b = self._vector(("p", n), self.passages[n - 1].text)
        return sum(x * y for x, y in zip(a, b, strict=False))

    def best(self, sentence: str, numbers: Sequence[int]) -> float | None:
        """Best cosine already computed for these passages, if any."""
        done = [n for n in numbers if ("s", sentence) in self.vectors and ("p", n) in self.vectors]
        return max((self.cosine(sentence, n) for n in done), default=None)


def _unit(vector: Sequence[float]) -> list[float]:
    norm = sum(x * x for x in vector) ** 0.5 or 1.0
    return [x / norm for x in vector]
