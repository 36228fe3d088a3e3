"""What the terminal shows: answers, progress, and text made safe to print."""

from __future__ import annotations

import sys
import textwrap
import unicodedata
from typing import TextIO

from index import Answer

_KEEP = {"\n"}


def printable(text: str, *, keep_newlines: bool = False) -> str:
    """Text with control and format characters (ANSI escapes, bidi overrides, stray newlines) shown escaped,
    so that nothing an article or file name holds can move the cursor or forge another line of output."""
    out = []
    for ch in text:
        if (keep_newlines and ch in _KEEP) or unicodedata.category(ch) not in ("Cc", "Cf", "Zl", "Zp"):
            out.append(ch)
        else:
            out.append(ch.encode("unicode_escape").decode("ascii"))
    return "".join(out)


class ProgressBar:
    """A one-line progress bar on stderr (plain lines every 10 % when stderr is not a terminal)."""

    def __init__(self, label: str, stream: TextIO | None = None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._tty = self.stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else int(done * 100 / total)
        if percent == self._last:
            return
        self._last = percent
        if self._tty:
            filled = percent // 4
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (25 - filled)}] {done}/{total}")
            if done >= total:
                self.stream.write("\n")
        elif percent % 10 == 0 or done >= total:
            self.stream.write(f"{self.label}: {done}/{total}\n")
        self.stream.flush()


def render_answer(answer: Answer, width: int = 100) -> str:
    """An answer as terminal text: the cited sentences (a quoted headline or a shaped answer's item on a line of
    its own), its figures over time, then the numbered sources with their passages."""
    lines = [
        textwrap.fill(printable(line), width, subsequent_indent="  " if answer.heading else "")
        for line in answer.text.split("\n")
    ]
    lines += [
        textwrap.fill(
            printable(update.render()),
            width,
            initial_indent="Figures: " if i == 0 else "         ",
            subsequent_indent="         ",
        )
        for i, update in enumerate(answer.updates)
    ]
    if answer.citations:
        lines += ["", "Sources:"]
    for citation in answer.citations:
        p = citation.passage
        when = p.published.isoformat() if p.published else "date unknown"
        updated = f" (updated {p.updated.isoformat()})" if p.updated else ""
        source = f"{p.display_title} — {p.outlet or 'outlet unknown'}, {when}{updated}"
        lines.append(printable(f"[{citation.number}] {source}"))
        if citation.also:
            lines.append(printable(f"    also reported by {', '.join(citation.also)}"))
        if p.url:
            lines.append(f"    {printable(p.url)}")
        lines += textwrap.wrap(
            printable(citation.quote, keep_newlines=True), width, initial_indent="    > ", subsequent_indent="    > "
        )
        for notice in p.correction_notes:
            lines += textwrap.wrap(printable(notice), width, initial_indent="    ", subsequent_indent="    ")
    for note in answer.notes:
        lines.append(f"({printable(note)})")
    return "\n".join(lines)
