"""Cited answers: the Answerer interface and the default extractive answerer."""

from __future__ import annotations

from datetime import date
from typing import Callable, Protocol, Sequence

from .results import Answer, Passage, Turn

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
