"""Where an answer's sentences sit in a cited passage: the quoted ranges and the sentences around them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from index import Passage

Role = Literal["before", "quote", "support", "between", "after", "opening"]


@dataclass(frozen=True)
class Piece:
    """A stretch of the passage: context around a quote, a quote the answer shows, or the sentence a
    paraphrase rests on (`support`); `more` says the passage goes on beyond it (before / after)."""

    text: str
    role: Role
    more: bool = False


def excerpt(passage: Passage, quoted: Sequence[tuple[int, int]], said: Sequence[str]) -> list[Piece]:
    """The passage around where the answer's sentences rest in it (`quoted`, from the engine), in passage order:
    one sentence of context on each side of each (and what lies between them); a span holding one of the answer's
    sentences `said` word for word is a quote, any other the sentence a paraphrase rests on; the passage's opening
    when nothing is placed."""
    text = passage.text
    spans = _trimmed(text, passage.sentence_spans)
    shown = {" ".join(sentence.split()) for sentence in said}
    marks: list[tuple[int, int, Role]] = [
        (start, end, "quote" if " ".join(text[start:end].split()) in shown else "support")
        for start, end in quoted
        if 0 <= start < end <= len(text)
    ]
    marks = _merged(marks)
    if not marks:
        return [Piece(text.strip(), "opening")] if text.strip() else []
    starts = sorted({s for s, _ in spans} | {0})
    ends = sorted({e for _, e in spans} | {len(text)})
    first, last = marks[0], marks[-1]
    begin = max((s for s in starts if s < first[0]), default=first[0])
    stop = min((e for e in ends if e > last[1]), default=last[1])
    pieces = [Piece(text[begin : first[0]], "before", more=begin > 0)]
    for (start, end, role), following in zip(marks, marks[1:] + [None], strict=False):
        pieces.append(Piece(text[start:end], role))
        if following is not None:
            pieces.append(Piece(text[end : following[0]], "between"))
    pieces.append(Piece(text[last[1] : stop], "after", more=stop < len(text.rstrip())))
    return [p for p in pieces if p.text.strip() or p.role in ("quote", "support")]


def _trimmed(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sentence spans without their surrounding white space."""
    out = []
    for start, end in spans:
        piece = text[start:end]
        lead, tail = len(piece) - len(piece.lstrip()), len(piece) - len(piece.rstrip())
        if end - tail > start + lead:
            out.append((start + lead, end - tail))
    return out


def _merged(marks: list[tuple[int, int, Role]]) -> list[tuple[int, int, Role]]:
    """Marks in passage order, overlapping ones joined (a quote wins over a support)."""
    out: list[tuple[int, int, Role]] = []
    for start, end, role in sorted(marks):
        if out and start < out[-1][1]:
            prev = out[-1]
            out[-1] = (prev[0], max(prev[1], end), "quote" if "quote" in (prev[2], role) else "support")
        else:
            out.append((start, end, role))
    return out
