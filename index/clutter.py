"""Page clutter removed at ingestion: lines one outlet repeats across its pages, and structural cues
(photo credits, video-player widgets, glued related-story links, contact lines); correction notices
are set apart. Figures behind every threshold: bench/data/CLUTTER.md."""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

# A line seen in at least this many distinct articles of one outlet (this one included) is boilerplate.
REPEAT_ARTICLES = 5
# Lines shorter than this are never judged by repetition: short repeated lines are mostly section headings
# ("Alabama", "1. Extreme weather") that give the paragraphs below them their context.
REPEAT_MIN_WORDS = 4
LINK_MAX_WORDS = 30  # a glued 'Label:Headline' link is one headline; longer lines are paragraphs
CREDIT_MAX_WORDS = 80  # a caption and its credit; longer lines are slide shows run together, or paragraphs
WIDGET_MAX_WORDS = 60  # a player's or a shop card's title twice; longer lines are paragraphs run together
CONTACT_LAST_LINES = 3  # contact and bio lines close an article; handles higher up are quoted posts
CONTACT_MAX_WORDS = 80
TIMESTAMP_MAX_WORDS = 8
CORRECTION_MAX_WORDS = 150

# The table the engine keeps per-outlet line counts in (added by a numbered migration).
LINE_STATS_SCHEMA = """
CREATE TABLE IF NOT EXISTS line_seen (
    outlet      TEXT    NOT NULL,
    fingerprint INTEGER NOT NULL,
    article_id  TEXT    NOT NULL,
    PRIMARY KEY (outlet, fingerprint, article_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS line_seen_article ON line_seen (article_id);
"""


@dataclass(frozen=True)
class Removed:
    """A line taken out of an article body, and the cue that took it."""

    text: str
    reason: str  # 'repeated', 'credit', 'widget', 'link', 'timestamp', 'contact'


@dataclass(frozen=True)
class Cleaned:
    """An article body without its clutter; correction notices are returned apart, to be stored as such."""

    body: str
    removed: tuple[Removed, ...] = ()
    corrections: tuple[str, ...] = ()


class LineStats(Protocol):
    """Per-outlet counts of line fingerprints: in how many distinct articles each line was seen."""

    def seen(self, outlet: str, fingerprints: Iterable[int], exclude: str | None = None) -> dict[int, int]:
        """How many articles of the outlet (other than `exclude`) hold each fingerprint; absent means none."""
        ...

    def record(self, outlet: str, article_id: str, fingerprints: Iterable[int]) -> set[int]:
        """Remember an article's fingerprints (replacing what was recorded for it before); returns those
        that have just reached REPEAT_ARTICLES articles (the articles holding them may need cleaning again)."""
        ...

    def forget(self, article_id: str) -> None:
        """Drop an article's fingerprints (the article was removed)."""
        ...

    def articles_with(self, outlet: str, fingerprints: Iterable[int]) -> set[str]:
        """The articles of the outlet that hold any of these fingerprints."""
        ...


class MemoryLineStats:
    """LineStats in memory: for tests and for bulk runs (count everything first, then clean)."""

    def __init__(self) -> None:
        self._articles: dict[tuple[str, int], set[str]] = defaultdict(set)
        self._recorded: dict[str, tuple[str, frozenset[int]]] = {}

    def seen(self, outlet: str, fingerprints: Iterable[int], exclude: str | None = None) -> dict[int, int]:
        out = {}
        for fp in set(fingerprints):
            holders = self._articles.get((outlet, fp), set())
            count = len(holders) - (exclude in holders)
            if count:
                out[fp] = count
        return out

    def record(self, outlet: str, article_id: str, fingerprints: Iterable[int]) -> set[int]:
        had = self._recorded.get(article_id, (outlet, frozenset()))
        self.forget(article_id)
        fps = frozenset(fingerprints)
        self._recorded[article_id] = (outlet, fps)
        crossed = set()
        for fp in fps:
            holders = self._articles[(outlet, fp)]
            holders.add(article_id)
            if len(holders) == REPEAT_ARTICLES and (had[0] != outlet or fp not in had[1]):
                crossed.add(fp)
        return crossed

    def forget(self, article_id: str) -> None:
        outlet, fps = self._recorded.pop(article_id, ("", frozenset()))
        for fp in fps:
            self._articles[(outlet, fp)].discard(article_id)

    def articles_with(self, outlet: str, fingerprints: Iterable[int]) -> set[str]:
        return set().union(*(self._articles.get((outlet, fp), set()) for fp in set(fingerprints)))


class SqliteLineStats:
    """LineStats in the catalog's SQLite database (table line_seen, LINE_STATS_SCHEMA); the caller commits."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def seen(self, outlet: str, fingerprints: Iterable[int], exclude: str | None = None) -> dict[int, int]:
        fps = sorted(set(fingerprints))
        out: dict[int, int] = {}
        for part in _batches(fps):
            rows = self._conn.execute(
                f"SELECT fingerprint, COUNT(*) FROM line_seen WHERE outlet = ? AND fingerprint IN "
                f"({','.join('?' * len(part))}) AND article_id != ? GROUP BY fingerprint",
                [outlet, *part, exclude or ""],
            )
            out.update({fp: n for fp, n in rows})
        return out

    def record(self, outlet: str, article_id: str, fingerprints: Iterable[int]) -> set[int]:
        fps = sorted(set(fingerprints))
        others = self.seen(outlet, fps, exclude=article_id)
        had = {
            fp
            for (fp,) in self._conn.execute(
                "SELECT fingerprint FROM line_seen WHERE article_id = ? AND outlet = ?", (article_id, outlet)
            )
        }
        self.forget(article_id)
        self._conn.executemany(
            "INSERT INTO line_seen (outlet, fingerprint, article_id) VALUES (?, ?, ?)",
            [(outlet, fp, article_id) for fp in fps],
        )
        return {fp for fp in fps if others.get(fp, 0) + 1 == REPEAT_ARTICLES and fp not in had}

    def forget(self, article_id: str) -> None:
        self._conn.execute("DELETE FROM line_seen WHERE article_id = ?", (article_id,))

    def articles_with(self, outlet: str, fingerprints: Iterable[int]) -> set[str]:
        out: set[str] = set()
        for part in _batches(sorted(set(fingerprints))):
            rows = self._conn.execute(
                f"SELECT DISTINCT article_id FROM line_seen WHERE outlet = ? AND fingerprint IN "
                f"({','.join('?' * len(part))})",
                [outlet, *part],
            )
            out.update(row[0] for row in rows)
        return out


def _batches(items: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


# --- fingerprints -----------------------------------------------------------------------------------


def line_key(line: str) -> str:
    """A line as compared across pages: NFKC, lower case, runs of non-word characters as one space."""
    return " ".join(re.sub(r"\W+", " ", unicodedata.normalize("NFKC", line).lower()).split())


def fingerprint(line: str) -> int:
    """A signed 64-bit fingerprint of a line (SQLite INTEGER)."""
    digest = hashlib.blake2b(line_key(line).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def body_fingerprints(body: str) -> set[int]:
    """The fingerprints of a body's lines long enough to be judged by repetition (what record() stores)."""
    return {fingerprint(line) for line in body.split("\n") if _repeat_candidate(line)}


def _repeat_candidate(line: str) -> bool:
    return len(line_key(line).split()) >= REPEAT_MIN_WORDS


# --- structural cues ------------------------------------------------------------------------------

_NAME = r"[A-Z][\w.'’&-]*(?: (?:[A-Z][\w.'’&-]*|de|van|von|da|del|la|of|the|for|via))*"
# A photo credit closes a caption: names joined by slashes ("Omar Torres/AFP/Getty Images") after the
# caption's last sentence, or on a line of their own.
_CREDIT = re.compile(r"(?:^|[.!?\"”’)]\s+)" + _NAME + r"(?:/" + _NAME + r")+\s*$")
# A related-story link: a short label glued to the linked headline ("More:Headline", "THE MATCHUP:One reason").
_GLUED_LINK = re.compile(r"^[^\s:][^:]{0,60}[^\s\d:]:[A-Z\"'‘“$\d]")
# A video length inside a line ("01:29"); a line that tells clock times ("9:30 a.m.", "1:40-1:44 p.m. CDT")
# holds none.
_DURATION = re.compile(r"(?<![\d:])\d{1,2}:\d{2}(?![\d:])")
_CLOCK_TIME = re.compile(r"(?i:\b[ap]\.?m\b)|\b[ECMP][SD]?T\b|\d:\d\d\s*[-–]\s*\d")
_SENTENCE_END = re.compile(r"[.!?:\"'”’)]\s*$")
# A live blog's time stamp on a line of its own ("Updated Feb. 15, 2024, 12:52 p.m. ET"): a year and a clock
# time (with a.m./p.m. or a zone: "2:00.0" is a race time), a few words, no lower-case word but a.m./p.m.
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
_CLOCK = re.compile(r"\b\d{1,2}:\d{2}\s*(?:(?i:[ap]\.?m)\b|[A-Z]{2,4}\b)")
_PROSE_WORD = re.compile(r"[a-z]{2,}")
_CONTACT = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b|(?<![\w@])@\w{2,}")
# Correction notices, in the conventional wording of newsroom corrections (AP and most outlets): a
# 'Correction:' / 'Clarification:' label, or an opening that speaks of an earlier version of the story.
_LABEL = r"(?:[\w'’ ]{1,25}:\s*)?"  # a section label before a notice ("News: ", "Editor's note: ")
_CORRECTION = re.compile(
    r"^\W*(?:corrections?|clarifications?|corrected)\b[^:\n]{0,40}:"
    r"|^\W*" + _LABEL + r"\(?(?:an?|the)\s+(?:earlier|previous|prior|original)\s+version\s+of\s+th(?:is|e)\b"
    r"|^\W*" + _LABEL + r"\(?th(?:is|e)\s+(?:story|article|column|report|post)\s+(?:has\s+been|was)\s+"
    r"(?:corrected|(?:updated|changed|edited)\s+to\s+(?:correct|clarify))",
    re.IGNORECASE,
)


def is_correction(line: str) -> bool:
    """Whether a line is a correction notice about the article itself."""
    return len(line.split()) <= CORRECTION_MAX_WORDS and bool(_CORRECTION.match(line))


def structural_reason(line: str, lines_after: int) -> str | None:
    """Why a line is clutter by its form alone (no outlet statistics), or None; lines_after counts the
    non-empty lines that follow it in the body."""
    words = len(line.split())
    if words <= CREDIT_MAX_WORDS and _CREDIT.search(line):
        return "credit"
    if (
        words <= WIDGET_MAX_WORDS
        and not _SENTENCE_END.search(line)
        and not line.lstrip("[(")[:1].isdigit()
        and (_self_repeating(line) or (_DURATION.search(line) and not _CLOCK_TIME.search(line)))
    ):
        return "widget"  # video players and galleries print their item's title twice, or with its length
    if words <= LINK_MAX_WORDS and _GLUED_LINK.match(line):
        return "link"
    if (
        words <= TIMESTAMP_MAX_WORDS
        and _YEAR.search(line)
        and _CLOCK.search(line)
        and not any(_PROSE_WORD.fullmatch(w.strip(",.;:()")) for w in line.split())
    ):
        return "timestamp"
    if lines_after < CONTACT_LAST_LINES and words <= CONTACT_MAX_WORDS and _CONTACT.search(line):
        return "contact"
    return None


def _self_repeating(line: str, n: int = 5) -> bool:
    """Whether some run of n words occurs twice in the line, the second time after the first ends."""
    words = line.split()
    first: dict[tuple[str, ...], int] = {}
    for i in range(len(words) - n + 1):
        gram = tuple(words[i : i + n])
        if gram in first and i - first[gram] >= n:
            return True
        first.setdefault(gram, i)
    return False


# --- cleaning -------------------------------------------------------------------------------------


def line_reasons(body: str, outlet: str | None, stats: LineStats, article_id: str | None = None) -> list[str | None]:
    """For each line of body.split('\\n'): why it is not article text ('correction', or a clutter reason
    of Removed), or None. Repetition is judged against the outlet's counts in `stats` (articles other
    than `article_id`); without an outlet only the structural cues apply."""
    lines = body.split("\n")
    filled = [i for i, line in enumerate(lines) if line.strip()]
    counts: Mapping[int, int] = {}
    if outlet:
        counts = stats.seen(
            outlet, (fingerprint(lines[i]) for i in filled if _repeat_candidate(lines[i])), exclude=article_id
        )
    reasons: list[str | None] = [None] * len(lines)
    for rank, i in enumerate(filled):
        line = lines[i].strip()
        if is_correction(line):
            reasons[i] = "correction"
            continue
        reasons[i] = structural_reason(line, len(filled) - 1 - rank)
        if reasons[i] is None and _repeat_candidate(line) and counts.get(fingerprint(line), 0) + 1 >= REPEAT_ARTICLES:
            reasons[i] = "repeated"
    if filled and reasons.count("credit") * 2 >= len(filled):  # a photo gallery: its captions are the article
        reasons = [None if why == "credit" else why for why in reasons]
    return reasons


def clean(body: str, outlet: str | None, stats: LineStats, article_id: str | None = None) -> Cleaned:
    """The body without its clutter lines, and its correction notices apart (see line_reasons)."""
    lines = body.split("\n")
    reasons = line_reasons(body, outlet, stats, article_id)
    removed = tuple(
        Removed(line.strip(), why) for line, why in zip(lines, reasons, strict=False) if why and why != "correction"
    )
    corrections = tuple(line.strip() for line, why in zip(lines, reasons, strict=False) if why == "correction")
    return Cleaned(body=kept_text(body, reasons), removed=removed, corrections=corrections)


def kept_text(body: str, reasons: list[str | None]) -> str:
    """The body without the lines that have a reason; the other lines and paragraph breaks as they were."""
    text = "\n".join(line for line, why in zip(body.split("\n"), reasons, strict=False) if not why)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def outlet_key(url: str | None) -> str | None:
    """The outlet an article's lines are counted under: its URL's host, lower case, without 'www.'."""
    host = urlsplit(url.strip()).hostname if url else None
    return host.removeprefix("www.") if host else None
