"""Cited answers: the Answerer interface and the default extractive answerer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Callable, Protocol, Sequence

import numpy as np

from .results import Answer, Citation, Passage, Sentence, Turn
from .text import sentence_spans, term_set

if TYPE_CHECKING:
    from .embedding import Embedder

TextCallback = Callable[[str], None]


class Answerer(Protocol):
    """Turns a question and retrieved passages into a cited Answer."""

    name: str

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        as_of: date,
        history: Sequence[Turn] = (),
        on_text: TextCallback | None = None,
    ) -> Answer:
        """Answer from the passages only; on_text receives the text so far while it is being written."""
        ...


_WORD = re.compile(r"[\w’'-]+")

# Weights of the sentence score; the parts are each in 0..1.
W_DENSE, W_LEXICAL, W_PASSAGE, W_TYPE = 0.45, 0.3, 0.15, 0.1
MAX_SENTENCES = 4
MAX_ANSWER_CHARS = 600
CLOSE_TO_BEST = 0.6       # further sentences must score at least this share of the best one
MIN_DENSE_COVERED = 0.35  # below this question-sentence similarity...
MIN_LEXICAL_COVERED = 0.5  # ...and this share of the question's words, the articles don't cover it
SENTENCE_PASSAGES = 6     # sentences are drawn from this many top passages (about 3 articles)
EMBED_CHARS = 400         # a sentence is embedded by its first this-many characters
EMBED_BATCH = 8
MAX_EMBEDDED_SENTENCES = 10  # at most this many, those sharing most words with the question, are embedded
HEADLINE_ORDER = -1       # a headline's place among its passage's sentences: before the first
_OUTLET_SUFFIX = re.compile(r"\s[|\-–—]\s([^|\-–—]{1,30})$")


_ENTITY = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w’'-]*(?:\s+[A-Z][\w’'-]*)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|hundred|thousand|million|billion)\b", re.I)
_WANTS_ENTITY = re.compile(r"^\s*(which|who|whom|whose|where|what (?:country|city|company|state|team|name))\b|\b(which|who)\b", re.I)
_WANTS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|big|high)\b|\bwhat (percentage|number|amount)\b", re.I)
_WANTS_DATE = re.compile(r"^\s*when\b|\bwhat (day|date|year|month)\b", re.I)


def answer_type_fit(question: str, sentence: str) -> float:
    """1.0 when the sentence holds the kind of thing the question asks for (a name, a number, a date)."""
    if _WANTS_NUMBER.search(question) or _WANTS_DATE.search(question):
        found = [m for m in _NUMBER.findall(sentence) if m not in question]
        return 1.0 if found else 0.0
    if _WANTS_ENTITY.search(question):
        asked = {w.lower() for w in _WORD.findall(question)}
        new = [e for e in _ENTITY.findall(sentence) if e.split()[0].lower() not in asked]
        return min(1.0, len(new) / 2)
    return 0.5


@dataclass(frozen=True)
class _Candidate:
    text: str
    passage_index: int
    order: int
    score: float
    dense: float
    lexical: float
    headline: bool = False


class ExtractiveAnswerer:
    """Picks the few sentences of the retrieved passages that best answer the question, each cited."""

    name = "extractive"

    def __init__(self, embed_model: "Embedder") -> None:
        self._embed = embed_model

    def answer(self, question: str, passages: Sequence[Passage], *, as_of: date,
               history: Sequence[Turn] = (), on_text: TextCallback | None = None) -> Answer:
        """The best sentences with citation numbers, then the sources they cite."""
        passages = list(passages)[:SENTENCE_PASSAGES]
        split = [passage_sentences(p) for p in passages]
        candidates = self._candidates(question, passages, split)
        if not any(map(_covered, candidates)):  # judged on every candidate: the best-scored may be a weaker match
            return Answer(question=question, sentences=(), citations=(), as_of=as_of, covered=False)
        chosen = [candidates[0]]
        for cand in candidates[1:]:
            if len(chosen) >= MAX_SENTENCES or cand.score < CLOSE_TO_BEST * chosen[0].score:
                break
            if sum(len(c.text) for c in chosen) + len(cand.text) > MAX_ANSWER_CHARS:
                continue
            if not _redundant(cand, chosen):
                chosen.append(cand)
        sentences, citations = _cite(chosen, passages, split)
        answer = Answer(question=question, sentences=sentences, citations=citations, as_of=as_of)
        if on_text:
            on_text(answer.text)
        return answer

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        # Batches of similar length: one long run-on "sentence" would otherwise pad every other one.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list = [None] * len(texts)
        for start in range(0, len(order), EMBED_BATCH):
            part = order[start : start + EMBED_BATCH]
            for i, vector in zip(part, self._embed.get_text_embedding_batch([texts[i] for i in part])):
                out[i] = vector
        return np.asarray(out, dtype=np.float32)

    def _candidates(self, question: str, passages: list[Passage], split: list[list[str]]) -> list[_Candidate]:
        raw: list[tuple[str, int, int]] = []
        seen: set[str] = set()  # overlapping chunks repeat sentences: keep the first, best-ranked one
        headlined: set[str] = set()
        for index, passage in enumerate(passages):  # a headline states the news: quotable like a sentence
            line = headline(passage)
            if line and passage.article_id not in headlined and line not in seen:
                headlined.add(passage.article_id)
                seen.add(line)
                raw.append((line, index, HEADLINE_ORDER))
        for index, sentences in enumerate(split):
            for order, sentence in enumerate(sentences):
                if _is_question(sentence):  # a quiz or a rhetorical headline asks; it answers nothing
                    continue
                if sentence not in seen:
                    seen.add(sentence)
                    raw.append((sentence, index, order))
        if not raw:
            return []
        q_terms = term_set(question)
        if len(raw) > MAX_EMBEDDED_SENTENCES:  # embedding dominates the time to answer: shortlist by words
            overlap = {r: len(q_terms & term_set(r[0])) for r in raw}
            keep = set(sorted(raw, key=lambda r: (-overlap[r], r[1], r[2]))[:MAX_EMBEDDED_SENTENCES])
            raw = [r for r in raw if r in keep]
        vectors = self._embed_texts([question] + [s[:EMBED_CHARS] for s, _, _ in raw])
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        dense = vectors[1:] @ vectors[0]
        top_score = max(p.score for p in passages) or 1.0
        out = []
        for (sentence, index, order), sim in zip(raw, dense):
            lexical = len(q_terms & term_set(sentence)) / len(q_terms) if q_terms else 0.0
            prior = passages[index].score / top_score
            fit = answer_type_fit(question, sentence)
            score = W_DENSE * float(sim) + W_LEXICAL * lexical + W_PASSAGE * prior + W_TYPE * fit
            out.append(_Candidate(sentence, index, order, score, float(sim), lexical, order == HEADLINE_ORDER))
        return sorted(out, key=lambda c: c.score, reverse=True)


def _cite(chosen: list[_Candidate], passages: list[Passage],
          split: list[list[str]]) -> tuple[tuple[Sentence, ...], tuple[Citation, ...]]:
    """Number the cited passages in the order the answer first cites them; each quotes its whole passage."""
    numbers: dict[int, int] = {}
    for cand in chosen:
        numbers.setdefault(cand.passage_index, len(numbers) + 1)
    sentences = tuple(Sentence(c.text, (numbers[c.passage_index],)) for c in chosen)
    quoting_headline = {c.passage_index for c in chosen if c.headline}
    citations = tuple(Citation(n, passages[i], headline=i in quoting_headline)
                      for i, n in sorted(numbers.items(), key=lambda kv: kv[1]))
    return sentences, citations


def headline(passage: Passage) -> str:
    """The passage's article headline as a quotable line (without a trailing '| CNN Politics' naming its
    outlet), or '' when it has none worth quoting."""
    line = " ".join(passage.title.split())
    site = re.sub(r"\W", "", re.sub(r"^www\.", "", (passage.outlet or "").lower()).split(".")[0])
    cut = _OUTLET_SUFFIX.search(line)
    suffix = re.sub(r"\W", "", cut.group(1).lower()) if cut else ""
    if len(site) >= 3 and len(suffix) >= 3 and (suffix.startswith(site) or site.startswith(suffix)):
        line = line[: cut.start()].rstrip()
    if len(line) < 20 or _is_question(line):
        return ""
    return line


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'’”)]").endswith("?")


def _covered(candidate: _Candidate) -> bool:
    return candidate.dense >= MIN_DENSE_COVERED or candidate.lexical >= MIN_LEXICAL_COVERED


def _redundant(cand: _Candidate, chosen: list[_Candidate]) -> bool:
    terms = term_set(cand.text)
    for other in chosen:
        other_terms = term_set(other.text)
        if terms and len(terms & other_terms) / len(terms) > 0.6:
            return True
    return False


def passage_sentences(passage: Passage) -> list[str]:
    """The sentences of a passage worth quoting (20+ characters with letters), white space normalised;
    by the boundaries stored at indexing time, else by splitting the text now."""
    spans = passage.sentence_spans or sentence_spans(passage.text)
    raw = [passage.text[start:end] for start, end in spans]
    out = []
    for sentence in raw:
        sentence = " ".join(sentence.split())
        if len(sentence) >= 20 and any(ch.isalpha() for ch in sentence):
            out.append(sentence)
    return out
