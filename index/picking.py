"""Turning a shaped answer's items into cited sentences: the extractive way (the best sentence of each item's
passages for the subject, all embedded in one batch) or by the configured answerer (an LLM), whose checked
sentences are then put back under the items they cite."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from .answer import _is_question, headline, passage_sentences
from .citecheck import numbers_in
from .dates import TimeWindow
from .results import Answer, Citation, Passage, Sentence, Turn
from .text import term_set

if TYPE_CHECKING:
    from .answer import Answerer, TextCallback
    from .embedding import Embedder

W_DENSE, W_LEXICAL, W_HEADLINE = 0.45, 0.3, 0.05  # the extractive answerer's weights, and a little for headlines
W_NOVEL, W_NEW_NUMBER = 0.4, 0.1  # "since": what the earlier reports did not say
REPEATED = 0.9  # a sentence this close to one of the earlier reports says nothing new
MIN_DENSE, MIN_LEXICAL = 0.35, 0.5  # as the extractive answerer: below both, an item does not cover the subject
SHORTLIST = 5  # sentences an item contributes to the embedding batch (those sharing most words with the subject)
EARLIER_SENTENCES = 24


@dataclass(frozen=True)
class Item:
    """One slot of a shaped answer: the passages its sentence(s) are drawn from, shown under a label and date."""

    passages: tuple[Passage, ...]
    label: str
    day: date | None = None
    sentences: int = 1  # at most this many sentences (the extractive way)
    headline_only: bool = False  # the item is its article's headline (a digest line)


@dataclass(frozen=True)
class Plan:
    """A shaped answer before its sentences are chosen."""

    kind: str
    subject: str
    items: tuple[Item, ...]
    heading: str
    notes: tuple[str, ...] = ()
    earlier: tuple[Passage, ...] = ()  # "since": what was reported before, for novelty
    order: str = "items"  # how an LLM's sentences are ordered: "items" (plan order) or "date"
    instruction: str = ""  # what the LLM is asked to write
    window: TimeWindow | None = None  # the period asked about (for the staleness note)
    each_item_on_subject: bool = False  # leave out an item none of whose sentences is about the subject
    groups: tuple[str, ...] = ()  # label prefixes each expected to have a sentence (the outlets compared)


@dataclass(frozen=True)
class _Candidate:
    text: str
    item: int
    passage: Passage
    headline: bool
    lexical: float


def extractive(plan: Plan, embed: Embedder) -> tuple[tuple[Sentence, ...], tuple[Citation, ...], bool]:
    """The best sentence(s) of each item for the plan's subject, cited, and whether any item covers it (items
    that do not are left out)."""
    candidates = _candidates(plan)
    if not candidates:
        return (), (), False
    dense, novelty = _similarities(plan, candidates, embed)
    earlier_numbers = set().union(*(numbers_in(p.text) for p in plan.earlier)) if plan.earlier else set()
    scored: dict[int, list[tuple[float, _Candidate]]] = {}
    covered = False
    for cand, sim, novel in zip(candidates, dense, novelty, strict=True):
        if plan.items[cand.item].headline_only:
            scored.setdefault(cand.item, []).append((1.0, cand))
            covered = True
            continue
        on_subject = sim >= MIN_DENSE or cand.lexical >= MIN_LEXICAL
        covered = covered or on_subject
        if (plan.each_item_on_subject and not on_subject) or (plan.earlier and novel <= 1 - REPEATED):
            continue
        score = W_DENSE * sim + W_LEXICAL * cand.lexical + W_HEADLINE * cand.headline
        if plan.earlier:
            score += W_NOVEL * novel + W_NEW_NUMBER * bool(numbers_in(cand.text) - earlier_numbers)
        scored.setdefault(cand.item, []).append((score, cand))
    sentences: list[Sentence] = []
    citations: dict[str, Citation] = {}
    for index, item in enumerate(plan.items):
        ranked = sorted(scored.get(index, []), key=lambda sc: -sc[0])
        chosen: list[_Candidate] = []
        for _, cand in ranked:
            if len(chosen) >= item.sentences:
                break
            if not any(_alike(cand.text, c.text) for c in chosen):
                chosen.append(cand)
        for cand in chosen:
            key = cand.passage.chunk_id
            if key not in citations:
                citations[key] = Citation(len(citations) + 1, cand.passage, headline=cand.headline)
            elif cand.headline and not citations[key].headline:
                citations[key] = replace(citations[key], headline=True)
            sentences.append(Sentence(cand.text, (citations[key].number,), day=item.day, label=item.label))
    return tuple(sentences), tuple(citations.values()), covered


def by_answerer(
    plan: Plan,
    question: str,
    answerer: Answerer,
    *,
    as_of: date,
    history: Sequence[Turn] = (),
    on_text: TextCallback | None = None,
) -> Answer:
    """The plan written by the answerer (an LLM): its checked sentences, each put under the item of the passage
    it cites first, ordered as the plan says; sentences citing no item's passage are left out."""
    passages: list[Passage] = []
    item_of: dict[str, int] = {}
    for index, item in enumerate(plan.items):
        for p in item.passages:
            if p.chunk_id not in item_of:
                item_of[p.chunk_id] = index
                passages.append(p)
    asked = f"{question}\n{plan.instruction}" if plan.instruction else question
    answer = answerer.answer(asked, passages, as_of=as_of, history=history, on_text=on_text)
    by_number = {c.number: c for c in answer.citations}
    placed: list[tuple[int, Sentence]] = []
    for s in answer.sentences:
        cited = [by_number[n] for n in s.citations if n in by_number]
        found = next((item_of[c.passage.chunk_id] for c in cited if c.passage.chunk_id in item_of), None)
        if found is None:
            continue
        item = plan.items[found]
        placed.append((found, replace(s, day=item.day, label=item.label)))
    if plan.order == "date":
        placed.sort(key=lambda ps: (ps[1].day or date.min, ps[0]))
    elif plan.order in ("items", "newest"):
        placed.sort(key=lambda ps: ps[0])
    sentences, citations = renumber([s for _, s in placed], by_number)
    return replace(
        answer, question=question, sentences=sentences, citations=citations, covered=answer.covered and bool(sentences)
    )


def renumber(
    sentences: Sequence[Sentence], by_number: dict[int, Citation]
) -> tuple[tuple[Sentence, ...], tuple[Citation, ...]]:
    """Citations numbered in order of first use by the sentences (unused ones dropped)."""
    mapping: dict[int, int] = {}
    for s in sentences:
        for n in s.citations:
            if n in by_number:
                mapping.setdefault(n, len(mapping) + 1)
    out = tuple(replace(s, citations=tuple(mapping[n] for n in s.citations if n in mapping)) for s in sentences)
    return out, tuple(replace(by_number[old], number=new) for old, new in mapping.items())


def _candidates(plan: Plan) -> list[_Candidate]:
    subject = term_set(plan.subject)
    out: list[_Candidate] = []
    for index, item in enumerate(plan.items):
        raw: list[tuple[str, Passage, bool]] = []
        seen: set[str] = set()
        for p in item.passages:
            line = headline(p)
            if line and line not in seen:
                seen.add(line)
                raw.append((line, p, True))
            if item.headline_only:
                if line:
                    break
                first = passage_sentences(p)[:1]
                raw += [(s, p, False) for s in first if not _is_question(s)]
                break
            for sentence in passage_sentences(p):
                if sentence not in seen and not _is_question(sentence):
                    seen.add(sentence)
                    raw.append((sentence, p, False))
        if item.headline_only:
            raw = raw[:1]
        lexical = {r: (len(subject & term_set(r[0])) / len(subject) if subject else 0.0) for r in raw}
        shortlist = sorted(raw, key=lambda r: -lexical[r])[: 1 if item.headline_only else SHORTLIST]
        out += [_Candidate(t, index, p, h, lexical[(t, p, h)]) for t, p, h in shortlist]
    return out


def _similarities(plan: Plan, candidates: list[_Candidate], embed: Embedder) -> tuple[np.ndarray, np.ndarray]:
    """Each candidate's cosine with the subject and, for "since", 1 - its best cosine with an earlier sentence."""
    scored = [i for i, c in enumerate(candidates) if not plan.items[c.item].headline_only]
    dense = np.zeros(len(candidates), dtype=np.float32)
    novelty = np.ones(len(candidates), dtype=np.float32)
    if not scored:
        return dense, novelty
    earlier = [s for p in plan.earlier for s in passage_sentences(p)][:EARLIER_SENTENCES]
    texts = [plan.subject] + [candidates[i].text[:400] for i in scored] + [s[:400] for s in earlier]
    vectors = _embed(embed, texts)
    subject, own, old = vectors[0], vectors[1 : 1 + len(scored)], vectors[1 + len(scored) :]
    dense[scored] = own @ subject
    if len(old):
        novelty[scored] = 1 - (own @ old.T).max(axis=1)
    return dense, novelty


def _embed(embed: Embedder, texts: list[str]) -> np.ndarray:
    vectors = np.asarray(embed.get_text_embedding_batch(texts), dtype=np.float32)
    return vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)


def _alike(a: str, b: str) -> bool:
    ta, tb = term_set(a), term_set(b)
    return bool(ta) and len(ta & tb) / len(ta) > 0.6
