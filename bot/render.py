"""Answers into Discord messages: text with citation markers and a card (embed) per source, within Discord's limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import discord

from index import LEAD_DASH, NOT_COVERED, Answer, Citation, Sentence, clip

from .cards import Piece, excerpt

CONTENT_MAX, DESCRIPTION_MAX, EMBEDS_TOTAL_MAX, EMBEDS_MAX, TITLE_MAX = 2000, 4096, 6000, 10, 256
SHORTENED = "-# (shortened)"
QUOTE_MIN = 120  # below this a card says too little: drop sentences (and their sources) instead
CONTEXT_MAX = 300  # characters of article text shown on a card on each side of a quote
MARK_WORDS = 8  # a quote the answer already shows is marked on its card by its first words only
_BRACKET = re.compile(r"(?<!\\)([\[\]])")  # masked links: [text](url)
_MENTION = re.compile(r"<(@[!&]?\d+|#\d+|/[^<>:\n]{1,100}:\d+)>")  # users, roles, channels, commands
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
    text = inert_mentions(discord.utils.escape_markdown(text))
    text = _BRACKET.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


def inert_mentions(text: str) -> str:
    """Mention syntax shown as the text it is, with no escape to see: <@123> becomes ‹@123› (no chip of a user).
    @everyone and @here stay as written: every message goes out with allowed_mentions none, so they ping no one."""
    return _MENTION.sub(r"‹\1›", text)


def plural(count: int, word: str) -> str:
    """'1 chunk', '3 chunks', '1,200 articles'."""
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def byline(outlet: str | None, published: date | None, sep: str = ", ") -> str:
    """Outlet and date, leaving out whichever is unknown ('' when both are)."""
    parts = ((outlet or "").strip(), published.isoformat() if published else "")
    return sep.join(part for part in parts if part)


def render_partial(text: str) -> str:
    """The answer so far while it is being written (no sources yet)."""
    return clip(escape(text), CONTENT_MAX - 2, " …") or "…"


def render_answer(answer: Answer) -> Rendered:
    """The answer text with its citation markers, and a card per cited source, shortened to fit."""
    if not answer.covered or not answer.sentences:
        return Rendered(_with_notes(NOT_COVERED, answer.notes, CONTENT_MAX))
    by_number = {c.number: c for c in answer.citations}
    sentences, shortened = _fit_sources(list(answer.sentences), by_number)
    heading = clip(escape(answer.heading), 300, " …") + "\n" if answer.heading else ""
    room = CONTENT_MAX - len(SHORTENED) - 1 - len(heading)
    lead = f"**{escape(clip(answer.lead, 200, ' …'))}** {LEAD_DASH} " if answer.lead else ""
    while len(sentences) > 1 and len(lead + _text(sentences)) > room:
        sentences, shortened = sentences[:-1], True
    while True:
        sources = _cited(sentences, by_number) or list(answer.citations)[:EMBEDS_MAX]
        embeds = _embeds(sources, sentences, force=len(sentences) <= 1)
        if embeds is not None:
            break
        sentences, shortened = sentences[:-1], True
    text = lead + _text(sentences, bold_headline=not lead)
    if len(text) > room:  # a single enormous sentence: shorten its words, keep its markers
        text, shortened = lead + _line(sentences[0], room - len(lead), bold_headline=not lead), True
    text = heading + _with_updates(text, answer, {c.number for c in sources}, room - len(text))
    content = f"{text}\n{SHORTENED}" if shortened else text
    return Rendered(_with_notes(content, answer.notes, CONTENT_MAX), embeds)


def _with_updates(text: str, answer: Answer, shown: set[int], room: int) -> str:
    """The answer's figures over time (or outlets' disagreements), those whose sources are shown, as room allows."""
    for update in answer.updates:
        line = f"\n-# {escape(update.render())}"
        if {v.citation for v in update.values} <= shown and len(line) <= room:
            text, room = text + line, room - len(line)
    return text


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


def _text(sentences: list[Sentence], bold_headline: bool = True) -> str:
    """The sentences as one paragraph; a quoted headline stands on its own line, in bold (but for a first one
    after the short answer, which is the bold part of its line)."""
    out, after_headline = "", False
    for i, s in enumerate(sentences):
        out += ("\n" if s.headline or after_headline or s.label else " ") if out else ""
        out += _line(s, bold_headline=bold_headline or i > 0)
        after_headline = s.headline
    return out


def _line(s: Sentence, limit: int | None = None, bold_headline: bool = True) -> str:
    marks = "".join(f"[{n}]" for n in s.citations)
    bold = s.headline and bold_headline
    text = escape(s.text)
    label = f"{escape(s.label)}: " if s.label else ""
    if limit is not None:
        text = clip(text, max(1, limit - len(marks) - 1 - 4 * bold - len(label)), " …")
    return f"{label}{f'**{text}**' if bold else text} {marks}".strip()


def _cited(sentences: list[Sentence], by_number: dict[int, Citation]) -> list[Citation]:
    numbers = sorted({n for s in sentences for n in s.citations if n in by_number})
    return [by_number[n] for n in numbers][:EMBEDS_MAX]


def _embeds(sources: list[Citation], said: Sequence[Sentence], force: bool = False) -> list[discord.Embed] | None:
    """One card per source; None when the cards would have to shrink below QUOTE_MIN (unless forced)."""
    heads = [(_title(c), _footer(c)) for c in sources]
    fixed = sum(len(t) + len(f) for t, f in heads)
    per_card = min(DESCRIPTION_MAX, (EMBEDS_TOTAL_MAX - fixed - 10) // max(1, len(sources)))
    if per_card < QUOTE_MIN and not force:
        return None
    embeds = []
    for c, (title, footer) in zip(sources, heads, strict=False):
        url = c.passage.url if (c.passage.url or "").startswith(("http://", "https://")) else None
        embed = discord.Embed(title=title, url=url, description=_card(c, said, max(per_card, 8)))
        if footer:
            embed.set_footer(text=footer)
        embeds.append(embed)
    return embeds


def _title(c: Citation) -> str:
    return clip(f"[{c.number}] {escape(c.passage.display_title or 'Untitled')}", TITLE_MAX, "…")


def _footer(c: Citation) -> str:
    also = f"also reported by {', '.join(c.also)}" if c.also else ""
    line = " · ".join(
        part
        for part in (
            byline(c.passage.outlet, c.passage.published, " · "),
            f"updated {c.passage.updated.isoformat()}" if c.passage.updated else "",
            also,
        )
        if part
    )
    notes = "".join(f"\n{note}" for note in c.passage.correction_notes)  # never quoted, shown beside
    return clip(line + notes, 400 if notes else 200, " …")


def _card(c: Citation, said: Sequence[Sentence], limit: int) -> str | None:
    """Where the answer's quotes sit in the article: the text around them with each quote marked in bold (by its
    first words: the answer shows it already); a quoted headline is the card's title, not repeated here."""
    pieces = excerpt(c.passage, c.quoted, [s.text for s in said if c.number in s.citations])
    budget = CONTEXT_MAX
    while True:
        body = " ".join(filter(None, (_piece(p, budget) for p in pieces)))
        if len(body) <= limit - 4 or budget <= 40:
            break
        budget //= 2
    return f"> {_balanced(clip(body, limit - 4, ' …'))}" if body else None


def _piece(p: Piece, budget: int) -> str:
    flat = " ".join(p.text.split())
    if p.role == "quote":
        words = flat.split()
        brief = " ".join(words[:MARK_WORDS]).rstrip(",;:–—-") + "…" if len(words) > MARK_WORDS else flat
        return f"**{escape(brief)}**"
    if p.role == "support":
        return f"**{escape(clip(flat, 2 * budget, '…'))}**"
    if p.role == "opening":
        return escape(clip(flat, 2 * budget, "…"))
    if p.role == "before":
        shown = _clip_left(flat, budget)
        return escape(("… " if p.more or shown != flat else "") + shown)
    if p.role == "after":
        shown = clip(flat, budget, " …")
        return escape(shown + (" …" if p.more and shown == flat else ""))
    if len(flat) <= 2 * budget:  # between two quotes
        return escape(flat)
    return f"{escape(clip(flat, budget, ' …'))} {escape(_clip_left(flat, budget))}"


def _clip_left(text: str, limit: int) -> str:
    """The end of a text in at most `limit` characters, starting at a sentence start, else at a word."""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    sentence = re.search(r"[.!?][\"')\]]?\s", tail)
    cut = sentence.end() if sentence and sentence.end() < limit // 2 else tail.find(" ") + 1
    return tail[cut:].lstrip()


def _balanced(text: str) -> str:
    """Close a bold mark that a cut left open."""
    return text + "**" if len(re.findall(r"(?<!\\)\*\*", text)) % 2 else text


def _with_notes(content: str, notes: tuple[str, ...], limit: int) -> str:
    for note in notes:
        line = f"\n-# {escape(note)}"
        if len(content) + len(line) <= limit:
            content += line
    return content
