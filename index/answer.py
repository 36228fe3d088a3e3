"""Cited answers: the Answerer interface and the default extractive answerer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Protocol

import numpy as np

from .answer_types import answer_type_fit
from .leads import choose_lead
from .results import Answer, Citation, Passage, Sentence, Turn
from .text import outlet_site, sentence_spans, term_set

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
        """Answer from the passages only; on_text receives the text so far while it is being written (only an
        answerer that streams calls it)."""
        ...


# Weights of the sentence score; the parts are each in 0..1.
W_DENSE, W_LEXICAL, W_PASSAGE, W_TYPE = 0.45, 0.3, 0.15, 0.1
MAX_SENTENCES = 4
MAX_ANSWER_CHARS = 600
CLOSE_TO_BEST = 0.6  # further sentences must score at least this share of the best one
MIN_DENSE_COVERED = 0.35  # below this question-sentence similarity...
MIN_LEXICAL_COVERED = 0.5  # ...and this share of the question's words, the articles don't cover it
SENTENCE_PASSAGES = 6  # sentences are drawn from this many top passages (about 3 articles)
EMBED_CHARS = 400  # a sentence is embedded by its first this-many characters
EMBED_BATCH = 8
MAX_EMBEDDED_SENTENCES = 10  # at most this many, those sharing most words with the question, are embedded
HEADLINE_ORDER = -1  # a headline's place among its passage's sentences: before the first
_OUTLET_SUFFIX = re.compile(r"\s[|\-–—]\s([^|\-–—]{1,30})$")


@dataclass(frozen=True)
class Candidate:
    """A sentence of the retrieved passages (or an article's headline) scored as an answer to the question."""

    text: str
    passage_index: int
    order: int
    score: float
    dense: float
    lexical: float
    headline: bool = False
    span: tuple[int, int] | None = None  # where it sits in its passage's text (None for a headline)


class ExtractiveAnswerer:
    """Picks the few sentences of the retrieved passages that best answer the question, each cited: the one that
    answers first, then the context that supports it."""

    name = "extractive"

    def __init__(self, embed_model: Embedder) -> None:
        self._embed = embed_model

    def answer(
        self,
        question: str,
        passages: Sequence[Passage],
        *,
        as_of: date,
        history: Sequence[Turn] = (),
        on_text: TextCallback | None = None,
    ) -> Answer:
        """The answering sentence (after its short answer), then supporting ones, with citation numbers and the
        sources they cite. The answer comes whole: on_text is not called."""
        passages = list(passages)[:SENTENCE_PASSAGES]
        candidates = self.candidates(question, passages)
        if not any(map(_covered, candidates)):  # judged on every candidate: the best-scored may be a weaker match
            return Answer(question=question, sentences=(), citations=(), as_of=as_of, covered=False)
        lead = choose_lead(question, candidates, passages, [passage_sentences(p) for p in passages])
        chosen = supporting(lead.sentence, candidates)
        sentences, citations = cite(chosen, passages)
        return Answer(question=question, sentences=sentences, citations=citations, as_of=as_of, lead=lead.short)

    def _embed_texts(self, texts: list[str]) -> np.ndarray:
        # Batches of similar length: one long run-on "sentence" would otherwise pad every other one.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out: list = [None] * len(texts)
        for start in range(0, len(order), EMBED_BATCH):
            part = order[start : start + EMBED_BATCH]
            for i, vector in zip(part, self._embed.get_text_embedding_batch([texts[i] for i in part]), strict=False):
                out[i] = vector
        return np.asarray(out, dtype=np.float32)

    def candidates(self, question: str, passages: Sequence[Passage]) -> list[Candidate]:
        """The passages' sentences and headlines worth quoting, best first, by closeness to the question
        (embedding and shared words), their passage's score and whether they hold what the question asks for."""
        raw: list[tuple[str, int, int, tuple[int, int] | None]] = []
        seen: set[str] = set()  # overlapping chunks repeat sentences: keep the first, best-ranked one
        headlined: set[str] = set()
        for index, passage in enumerate(passages):  # a headline states the news: quotable like a sentence
            line = headline(passage)
            if line and passage.article_id not in headlined and line not in seen:
                headlined.add(passage.article_id)
                seen.add(line)
                raw.append((line, index, HEADLINE_ORDER, None))
        for index, passage in enumerate(passages):
            for order, (sentence, where) in enumerate(quotable_sentences(passage)):
                if _is_question(sentence):  # a quiz or a rhetorical headline asks; it answers nothing
                    continue
                if sentence not in seen:
                    seen.add(sentence)
                    raw.append((sentence, index, order, where))
        if not raw:
            return []
        q_terms = term_set(question)
        if len(raw) > MAX_EMBEDDED_SENTENCES:  # embedding dominates the time to answer: shortlist by words
            overlap = {r: len(q_terms & term_set(r[0])) for r in raw}
            keep = set(sorted(raw, key=lambda r: (-overlap[r], r[1], r[2]))[:MAX_EMBEDDED_SENTENCES])
            raw = [r for r in raw if r in keep]
        vectors = self._embed_texts([question] + [r[0][:EMBED_CHARS] for r in raw])
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
        dense = vectors[1:] @ vectors[0]
        top_score = max(p.score for p in passages) or 1.0
        out = []
        for (sentence, index, order, span), sim in zip(raw, dense, strict=True):
            lexical = len(q_terms & term_set(sentence)) / len(q_terms) if q_terms else 0.0
            prior = passages[index].score / top_score
            fit = answer_type_fit(question, sentence)
            score = W_DENSE * float(sim) + W_LEXICAL * lexical + W_PASSAGE * prior + W_TYPE * fit
            out.append(Candidate(sentence, index, order, score, float(sim), lexical, order == HEADLINE_ORDER, span))
        return sorted(out, key=lambda c: c.score, reverse=True)


def supporting(lead: Candidate, candidates: Sequence[Candidate]) -> list[Candidate]:
    """The answering sentence, then the best others close to the best score that say something new."""
    chosen = [lead]
    best = candidates[0].score
    for cand in candidates:
        if len(chosen) >= MAX_SENTENCES or cand.score < CLOSE_TO_BEST * best:
            break
        if cand is lead or sum(len(c.text) for c in chosen) + len(cand.text) > MAX_ANSWER_CHARS:
            continue
        if not _redundant(cand, chosen):
            chosen.append(cand)
    return chosen


def cite(chosen: Sequence[Candidate], passages: Sequence[Passage]) -> tuple[tuple[Sentence, ...], tuple[Citation, ...]]:
    """Number the cited passages in the order the answer first cites them; each quotes its whole passage and says
    where the sentences citing it sit in it."""
    numbers: dict[int, int] = {}
    for cand in chosen:
        numbers.setdefault(cand.passage_index, len(numbers) + 1)
    sentences = tuple(Sentence(c.text, (numbers[c.passage_index],), headline=c.headline) for c in chosen)
    citations = []
    for index, number in sorted(numbers.items(), key=lambda kv: kv[1]):
        quoting = [c for c in chosen if c.passage_index == index]
        spans = tuple(sorted({c.span for c in quoting if c.span is not None}))
        citations.append(Citation(number, passages[index], headline=any(c.headline for c in quoting), quoted=spans))
    return sentences, tuple(citations)


def headline(passage: Passage) -> str:
    """The passage's article headline as a quotable line (tidied, without a trailing '| CNN Politics' naming its
    outlet), or '' when it has none worth quoting."""
    line = passage.display_title
    site = outlet_site(passage.outlet)
    cut = _OUTLET_SUFFIX.search(line)
    suffix = re.sub(r"\W", "", cut.group(1).lower()) if cut else ""
    if cut and len(site) >= 3 and len(suffix) >= 3 and (suffix.startswith(site) or site.startswith(suffix)):
        line = line[: cut.start()].rstrip()
    if len(line) < 20 or _is_question(line):
        return ""
    return line


def _is_question(sentence: str) -> bool:
    return sentence.rstrip(" \"'’”)]").endswith("?")


def _covered(candidate: Candidate) -> bool:
    return candidate.dense >= MIN_DENSE_COVERED or candidate.lexical >= MIN_LEXICAL_COVERED


def _redundant(cand: Candidate, chosen: list[Candidate]) -> bool:
    terms = term_set(cand.text)
    for other in chosen:
        other_terms = term_set(other.text)
        if terms and len(terms & other_terms) / len(terms) > 0.6:
            return True
    return False


def quotable_sentences(passage: Passage) -> list[tuple[str, tuple[int, int]]]:
    """The sentences of a passage worth quoting (20+ characters with letters), white space normalised, with where
    each sits in the text; by the boundaries stored at indexing time, else by splitting the text now."""
    out = []
    for start, end in passage.sentence_spans or sentence_spans(passage.text):
        raw = passage.text[start:end]
        start, end = start + len(raw) - len(raw.lstrip()), end - len(raw) + len(raw.rstrip())
        sentence = " ".join(raw.split())
        if len(sentence) >= 20 and any(ch.isalpha() for ch in sentence):
            out.append((sentence, (start, end)))
    return out


def passage_sentences(passage: Passage) -> list[str]:
    """The sentences of a passage worth quoting (see quotable_sentences), without their places."""
    return [sentence for sentence, _ in quotable_sentences(passage)]
