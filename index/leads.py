"""The sentence that answers, and the short answer lifted from it: the name, place, number or date the question
asks for that the retrieved sentences agree on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .answer_types import TITLE_TERMS, Kind, answer_spans, asks_for, names_inside
from .results import Passage
from .text import outlet_site, term_set

if TYPE_CHECKING:
    from .answer import Candidate

LEAD_BAND = 0.8  # the answering sentence scores at least this share of the best one...
W_AGREE = 0.3  # ...and gains up to this for holding the short answer the sentences most agree on
W_MENTION = 0.2  # a sentence not scored against the question votes with this share of its passage's score
VOTE_FLOOR = 0.6  # candidates scoring below this share of the best vote only as mentions
CLEAR_LEAD = 1.5  # the short answer is shown when the sentences agree on it this much more than on any other

Key = frozenset[str]  # a short answer's words beyond the question's and titles': 'Gov. Jay Inslee' -> {jay, insle}


@dataclass(frozen=True)
class Lead:
    """The sentence that answers, and the short answer lifted from it (None when none can be)."""

    sentence: Candidate
    short: str | None


class Spotter:
    """Finds the short answers of the kind a question asks for in the retrieved texts."""

    def __init__(self, kind: Kind, question: str, passages: Sequence[Passage]) -> None:
        self.kind, self.question = kind, question
        self.names = set().union(*(names_inside(p.text) for p in passages))
        self.asked = term_set(question, number_words=True)
        self.outlets = {outlet_site(p.outlet) for p in passages} - {""}  # who published it is not the answer

    def __call__(self, text: str, headline: bool = False) -> list[tuple[str, Key]]:
        """The short answers in a text (a sentence or a headline), as written and by key."""
        out = []
        for span in answer_spans(self.kind, self.question, text, self.names, headline):
            key = frozenset(term_set(span, number_words=True) - self.asked - TITLE_TERMS)
            if key and "".join(sorted(key)) not in self.outlets:
                out.append((span, key))
        return out


def choose_lead(
    question: str, candidates: Sequence[Candidate], passages: Sequence[Passage], sentences: Sequence[Sequence[str]]
) -> Lead:
    """When the question asks for a name, place, number or date: of the candidates scoring near the best, the one
    that best combines its score with holding the short answer the passages' sentences (`sentences`, by passage)
    most agree on, and that answer when the agreement is clear; else the best candidate alone."""
    best = candidates[0]
    kind = asks_for(question)
    if kind is None:
        return Lead(best, None)
    spot = Spotter(kind, question, passages)
    held = {c: spot(c.text, c.headline) for c in candidates}
    voters = [c for c in candidates if c.score >= VOTE_FLOOR * best.score]
    votes = agreement(
        [(c.score, [k for _, k in held[c]]) for c in voters] + list(_mentions(voters, passages, sentences, spot))
    )
    if not votes:
        return Lead(best, None)
    top = max(votes.values())

    def support(c: Candidate) -> float:
        return max((votes[key] for _, key in held[c]), default=0.0) / top

    near = [c for c in candidates if c is best or c.score >= LEAD_BAND * best.score]
    chosen = max(near, key=lambda c: c.score + W_AGREE * support(c))
    short = max(held[chosen], key=lambda sk: votes[sk[1]], default=None)
    if short is None or votes[short[1]] < top:
        return Lead(chosen, None)
    rivals = [v for k, v in votes.items() if not (k <= short[1] or short[1] <= k)]
    return Lead(chosen, short[0] if top >= CLEAR_LEAD * max(rivals, default=0.0) else None)


def agreement(voters: Iterable[tuple[float, Iterable[Key]]]) -> dict[Key, float]:
    """Each short answer's support: the weights of the sentences holding it; a shorter form of a name
    ('Avalanche') counts for the longer one ('Colorado Avalanche')."""
    votes: dict[Key, float] = {}
    for weight, keys in voters:
        for key in set(keys):
            votes[key] = votes.get(key, 0.0) + weight
    merged = dict(votes)
    for short in votes:
        for long in votes:
            if short < long:
                merged[long] += votes[short]
    return merged


def _mentions(
    voters: Sequence[Candidate], passages: Sequence[Passage], sentences: Sequence[Sequence[str]], spot: Spotter
) -> Iterable[tuple[float, list[Key]]]:
    """The passages' other sentences as voters, each once, weighted by a share of its passage's score."""
    seen = {c.text for c in voters}
    top = max(p.score for p in passages) or 1.0
    for passage, texts in zip(passages, sentences, strict=True):
        for text in texts:
            if text not in seen:
                seen.add(text)
                yield W_MENTION * passage.score / top, [k for _, k in spot(text)]
