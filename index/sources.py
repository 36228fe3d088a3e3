"""Sources by article and by copy: an answer lists each article once (the passages it quotes from one article
share one source number) and a near-verbatim copy of an article already cited is not a second source; the
source says which other outlets carried the copy ("also reported by ...")."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from .citecheck import support_span
from .results import Answer, Citation, Passage
from .text import sentence_spans

if TYPE_CHECKING:
    from .story_view import StoryReader

GAP = " … "  # between two passages of one source that do not follow each other


def one_source_per_article(answer: Answer, reader: StoryReader | None = None) -> Answer:
    """The answer with one citation per article (and per copy group when `reader` knows the copies), numbered in
    order of first use; every sentence keeps a citation whose quotation contains it."""
    if not answer.citations:
        return answer
    members = reader.members_of(c.passage.article_id for c in answer.citations) if reader else {}

    def group_of(c: Citation) -> str:
        member = members.get(c.passage.article_id)
        return member.original if member else c.passage.article_id

    said: dict[int, list[str]] = {}
    for s in answer.sentences:
        for n in s.citations:
            said.setdefault(n, []).append(s.text)
    groups: dict[str, list[Citation]] = {}
    for c in sorted(answer.citations, key=lambda c: c.number):
        groups.setdefault(group_of(c), []).append(c)
    kept: list[list[Citation]] = []
    for cited in groups.values():
        kept += _merged_groups(cited, said)
    number = {c.number: new for new, group in enumerate(kept, 1) for c in group}
    also = _copies(reader, [group[0].passage for group in kept])
    citations = []
    for new, group in enumerate(kept, 1):
        first = group[0]
        outlets = [c.passage.outlet for c in group[1:]] + also.get(first.passage.article_id, [])
        shown = tuple(dict.fromkeys(o for o in outlets if o and o != first.passage.outlet))
        passage = merge_passages([c.passage for c in group])
        quoted = (
            first.quoted
            if len(group) == 1 and first.quoted
            else _quoted(passage, [t for c in group for t in said.get(c.number, [])])
        )
        citations.append(Citation(new, passage, headline=any(c.headline for c in group), also=shown, quoted=quoted))
    sentences = tuple(
        replace(s, citations=tuple(dict.fromkeys(number[n] for n in s.citations if n in number)))
        for s in answer.sentences
    )
    return replace(answer, sentences=sentences, citations=tuple(citations))


def _merged_groups(cited: list[Citation], said: dict[int, list[str]]) -> list[list[Citation]]:
    """One group when the merged quotation holds every sentence cited to any of them, else one per citation
    that would lose a sentence (kept apart, as before)."""
    merged = Citation(0, merge_passages([c.passage for c in cited]), headline=any(c.headline for c in cited))
    quote = " ".join(merged.quote.split())
    if all(" ".join(t.split()) in quote for c in cited for t in said.get(c.number, [])):
        return [cited]
    return [[c] for c in cited]


def _quoted(passage: Passage, sentences: list[str]) -> tuple[tuple[int, int], ...]:
    """Where the sentences citing a merged source rest in its quotation, in order (as the citation check finds)."""
    return tuple(sorted({span for t in sentences if (span := support_span(t, passage)) is not None}))


def merge_passages(passages: list[Passage]) -> Passage:
    """Passages of one source as one: the first's metadata, the texts in article order (by chunk id), the
    sentences an earlier passage already holds (chunks overlap) left out; sentence spans kept."""
    if len(passages) == 1:
        return passages[0]
    same = all(p.article_id == passages[0].article_id for p in passages)
    ordered = sorted(passages, key=lambda p: p.chunk_id) if same else list(passages)
    first = ordered[0]
    text, spans = first.text, list(first.sentence_spans or sentence_spans(first.text))
    for p in ordered[1:]:
        own = list(p.sentence_spans or sentence_spans(p.text))
        flat = " ".join(text.split())
        fresh = [(s, e) for s, e in own if " ".join(p.text[s:e].split()) not in flat]
        if not fresh:
            continue
        cut = fresh[0][0]
        offset = len(text) + len(GAP) - cut
        text = text + GAP + p.text[cut:]
        spans += [(s + offset, e + offset) for s, e in own if s >= cut]
    return replace(passages[0], text=text, sentence_spans=tuple(spans), score=max(p.score for p in passages))


def _copies(reader: StoryReader | None, passages: list[Passage]) -> dict[str, list[str]]:
    """Outlets of the stored copies of each cited article, oldest first."""
    if reader is None:
        return {}
    found = reader.copies(p.article_id for p in passages)
    return {article_id: [m.outlet for m in copies if m.outlet] for article_id, copies in found.items()}
