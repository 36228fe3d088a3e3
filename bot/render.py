"""Answers into Discord messages: text with citation markers plus one embed per source, within Discord's limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import discord

from index import NOT_COVERED, Answer, Citation, Sentence

CONTENT_MAX, DESCRIPTION_MAX, EMBEDS_TOTAL_MAX, EMBEDS_MAX, TITLE_MAX = 2000, 4096, 6000, 10, 256
SHORTENED = "-# (shortened)"
QUOTE_MIN = 120  # below this a quote says too little: drop sentences (and their sources) instead
_BRACKET = re.compile(r"(?<!\\)([\[\]])")  # masked links: [text](url)
_LINE_START = re.compile(r"^(\s*)(#{1,3} |-# |[-*+] |\d+\. )", re.M)


@dataclass(frozen=True)
class Rendered:
    """A message body: content and embeds, already within Discord's limits."""

    content: str
    embeds: list[discord.Embed] = field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        """Keyword arguments for send/edit."""
        return {"content": self.content, "embeds": self.embeds}


def escape(text: str) -> str:
    """Show article text as data: no markdown, headings, masked links or mentions."""
    text = discord.utils.escape_mentions(discord.utils.escape_markdown(text))
    text = _BRACKET.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def clip(text: str, limit: int, ellipsis: str = " …") -> str:
    """Cut text to at most `limit` characters at a sentence end, else a word boundary, marking the cut."""
    if len(text) <= limit:
        return text
    room = max(0, limit - len(ellipsis))
    head = text[:room]
    ends = [m.end() for m in re.finditer(r"[.!?][\"')\]]?\s", head)]
    cut = ends[-1] if ends and ends[-1] > room // 2 else head.rfind(" ")
    return (head[:cut] if cut > 0 else head).rstrip() + ellipsis


def render_partial(text: str) -> str:
    """The answer so far while it is being written (no sources yet)."""
    return clip(escape(text), CONTENT_MAX - 2) or "…"


def render_answer(answer: Answer) -> Rendered:
    """The answer text with its citation markers, and its cited sources as embeds, shortened to fit."""
    if not answer.covered or not answer.sentences:
        return Rendered(_with_notes(NOT_COVERED, answer.notes, CONTENT_MAX))
    by_number = {c.number: c for c in answer.citations}
    sentences, shortened = _fit_sources(list(answer.sentences), by_number)
    room = CONTENT_MAX - len(SHORTENED) - 1
    while len(sentences) > 1 and len(" ".join(_line(s) for s in sentences)) > room:
        sentences, shortened = sentences[:-1], True
    while True:
        sources = _cited(sentences, by_number) or list(answer.citations)[:EMBEDS_MAX]
        embeds = _embeds(sources, force=len(sentences) <= 1)
        if embeds is not None:
            break
        sentences, shortened = sentences[:-1], True
    text = " ".join(_line(s) for s in sentences)
    if len(text) > room:  # a single enormous sentence: shorten its words, keep its markers
        text, shortened = _line(sentences[0], room), True
    content = f"{text}\n{SHORTENED}" if shortened else text
    return Rendered(_with_notes(content, answer.notes, CONTENT_MAX), embeds)


def _fit_sources(sentences: list[Sentence], by_number: dict[int, Citation]) -> tuple[list[Sentence], bool]:
    """Keep leading sentences while their sources number at most EMBEDS_MAX."""
    kept: list[Sentence] = []
    used: set[int] = set()
    for s in sentences:
        new = {n for n in s.citations if n in by_number} - used
        if len(used | new) > EMBEDS_MAX:
            return kept or sentences[:1], True
        kept.append(s)
        used |= new
    return kept, False


def _line(s: Sentence, limit: int | None = None) -> str:
    marks = "".join(f"[{n}]" for n in s.citations)
    text = escape(s.text)
    if limit is not None:
        text = clip(text, max(1, limit - len(marks) - 1))
    return f"{text} {marks}".strip()


def _cited(sentences: list[Sentence], by_number: dict[int, Citation]) -> list[Citation]:
    numbers = sorted({n for s in sentences for n in s.citations if n in by_number})
    return [by_number[n] for n in numbers][:EMBEDS_MAX]


def _embeds(sources: list[Citation], force: bool = False) -> list[discord.Embed] | None:
    """One embed per source; None when the quotes would have to shrink below QUOTE_MIN (unless forced)."""
    heads = [(_title(c), _footer(c)) for c in sources]
    fixed = sum(len(t) + len(f) for t, f in heads)
    per_quote = min(DESCRIPTION_MAX, (EMBEDS_TOTAL_MAX - fixed - 10) // max(1, len(sources)))
    if per_quote < QUOTE_MIN and not force:
        return None
    embeds = []
    for c, (title, footer) in zip(sources, heads):
        url = c.passage.url if (c.passage.url or "").startswith(("http://", "https://")) else None
        embed = discord.Embed(title=title, url=url, description=_quote(c.quote, max(per_quote, 4)))
        embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


def _title(c: Citation) -> str:
    return clip(f"[{c.number}] {escape(c.passage.title or 'Untitled')}", TITLE_MAX)


def _footer(c: Citation) -> str:
    when = c.passage.published.isoformat() if c.passage.published else "date unknown"
    when += f" · updated {c.passage.updated.isoformat()}" if c.passage.updated else ""
    notes = "".join(f"\n{note}" for note in c.passage.correction_notes)  # never quoted, shown beside
    return clip(f"{c.passage.outlet or 'Unknown outlet'} · {when}{notes}", 400 if notes else 200)


def _quote(text: str, limit: int) -> str:
    flat = " ".join(escape(text).split())
    return "> " + clip(flat, limit - 2)


def _with_notes(content: str, notes: tuple[str, ...], limit: int) -> str:
    for note in notes:
        line = f"\n-# {escape(note)}"
        if len(content) + len(line) <= limit:
            content += line
    return content
