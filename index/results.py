"""Plain data the engine hands to every face: passages, cited answers, article listings, status."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from .text import tidy_title


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk of an article, with what a citation needs to show."""

    chunk_id: str
    article_id: str
    text: str
    title: str
    outlet: str | None
    published: date | None
    url: str | None
    score: float = 0.0
    sentence_spans: tuple[tuple[int, int], ...] = field(default=(), repr=False)  # (start, end) in text
    updated: date | None = None  # when the article's text last changed after it was first added
    corrections: tuple[str, ...] = ()  # the article's correction notices: shown with the citation, never quoted

    @property
    def correction_notes(self) -> tuple[str, ...]:
        """The correction notices as a citation shows them: 'Correction: …' (a notice's own label kept)."""
        return tuple(
            n if n.lower().startswith(("correction", "clarification")) else f"Correction: {n}" for n in self.corrections
        )

    @property
    def display_title(self) -> str:
        """The title as faces show it: one line, a title its source cut short ending at its last whole phrase."""
        return tidy_title(self.title)


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the quoted passage and its article."""

    number: int
    passage: Passage
    headline: bool = False  # the answer quotes the article's headline: the quotation starts with it
    quoted: tuple[tuple[int, int], ...] = ()  # where the answer's sentences citing it sit in passage.text, in order
    also: tuple[str, ...] = ()  # other outlets that carried a copy of this article ("also reported by ...")

    @property
    def quote(self) -> str:
        """The passage text shown as the quotation (after the article's headline when that is quoted)."""
        return f"{self.passage.display_title}\n\n{self.passage.text}" if self.headline else self.passage.text


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer and the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]
    day: date | None = None  # an item of a dated answer (a timeline, the latest reports): its source's date
    label: str = ""  # what the item is shown under: its date and outlet, an outlet, a story's coverage
    headline: bool = False  # the sentence is its cited article's headline (shown apart, not run into the next)

    def render(self) -> str:
        """The sentence followed by its markers, e.g. 'Kyiv was hit. [1]' (after its label: '2024-03-05, CNN: ...')."""
        marks = "".join(f"[{n}]" for n in self.citations)
        return f"{self.label + ': ' if self.label else ''}{self.text} {marks}".strip()


@dataclass(frozen=True)
class Figure:
    """One value of a figure in an answer, where it comes from and when."""

    value: str
    day: date | None
    outlet: str | None
    citation: int


@dataclass(frozen=True)
class Update:
    """A figure the cited sources give differently: over time (an update) or on one day by two outlets."""

    what: str  # the thing counted, as the sources write it ("people", "homes")
    kind: Literal["update", "disagreement"]
    values: tuple[Figure, ...]

    def render(self) -> str:
        """'people: 12 on 2024-09-11 [2], 27 on 2024-09-12 [3]' or, for outlets that disagree on one day,
        'On 2024-09-12 outlets differ on people: 27 (Gulf Herald) [3], 31 (Bay Courier) [4]'."""
        if self.kind == "update":
            items = ", ".join(
                f"{v.value} on {v.day.isoformat() if v.day else 'an unknown date'} [{v.citation}]" for v in self.values
            )
            return f"{self.what}: {items}"
        day = self.values[0].day
        items = ", ".join(f"{v.value} ({v.outlet or 'outlet unknown'}) [{v.citation}]" for v in self.values)
        return f"On {day.isoformat() if day else 'the same day'} outlets differ on {self.what}: {items}"


NOT_COVERED = "The articles I have don't cover that."
LEAD_DASH = "—"  # between a short answer and the sentence it comes from
HISTORY_TURNS = 3  # earlier question/answer pairs a follow-up is read with


@dataclass(frozen=True)
class Answer:
    """A cited answer: the short answer (`lead`, lifted from the first sentence) when there is one, sentences with
    citation numbers, then the numbered sources."""

    question: str
    sentences: tuple[Sentence, ...]
    citations: tuple[Citation, ...]
    as_of: date
    covered: bool = True
    answerer: str = "extractive"
    notes: tuple[str, ...] = ()
    rewritten: str | None = None  # a follow-up as it was searched for, stand-alone
    lead: str | None = None  # the short answer (a name, number, date, place) as the first sentence says it
    shape: str = "answer"  # the kind of question answered: answer, latest, since, timeline, digest, outlets
    heading: str = ""  # what a shaped answer opens with, e.g. "As of 2024-09-12, the newest reports:"
    updates: tuple[Update, ...] = ()  # figures the cited sources give differently, with their dates
    log_id: int | None = None  # its row in the question log (what feedback refers to); None when not logged

    @property
    def text(self) -> str:
        """The answer with its citation markers, after its short answer ('Nissan — Nissan recalls … [1] …') or
        under its heading; items of a shaped answer and a quoted headline stand on lines of their own."""
        if not self.covered:
            return NOT_COVERED
        itemised = any(s.label for s in self.sentences)
        body, after_headline = "", False
        for s in self.sentences:
            if body:
                body += "\n" if itemised or s.headline or after_headline else " "
            body += s.render()
            after_headline = s.headline
        if self.lead and body:
            body = f"{self.lead} {LEAD_DASH} {body}"
        return f"{self.heading}\n{body}" if self.heading else body

    def to_dict(self) -> dict:
        """JSON-able form (dates as ISO strings)."""
        data = asdict(self)
        data["text"] = self.text
        for citation in data["citations"]:
            citation["passage"].pop("sentence_spans", None)
        return _jsonable_dict(data)


@dataclass(frozen=True)
class Turn:
    """One earlier question and its answer text, for follow-up questions."""

    question: str
    answer: str


@dataclass(frozen=True)
class ArticleInfo:
    """An article as listed: metadata without the body."""

    id: str
    title: str
    outlet: str | None
    published: date | None
    url: str | None
    chunks: int
    added_at: datetime | None = None
    server: str | None = None  # the server whose corpus it is in; None: the shared corpus
    added_by: str | None = None  # who added it (as the face that added it named them)
    moderation: str | None = None  # "hidden" or "demoted" by the moderators of the server listing it

    @property
    def display_title(self) -> str:
        """The title as faces show it (see Passage.display_title)."""
        return tidy_title(self.title)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return _jsonable_dict(asdict(self))


@dataclass(frozen=True)
class AddResult:
    """What adding an article did: added, replaced an older version, or nothing (already there)."""

    status: Literal["added", "replaced", "unchanged"]
    article: ArticleInfo


@dataclass(frozen=True)
class ArticleVectors:
    """An article's title and chunk texts with the vectors the index holds for them."""

    article_id: str
    title: str
    title_vector: Any
    chunks: list[tuple[str, Any]]
    embed_texts: list[str] = field(default_factory=list)  # what each chunk was embedded as


@dataclass(frozen=True)
class RebuildReport:
    """The outcome of a rebuild."""

    articles: int
    chunks: int
    embedded: int
    cached: int
    seconds: float
    collection: str


@dataclass(frozen=True)
class Status:
    """What the index holds and how it is set up."""

    articles: int
    chunks: int
    store: str
    collection: str
    embed_model: str
    data_dir: str
    answerer: str
    rebuilding: bool = False
    extra: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able form."""
        return _jsonable_dict(asdict(self))


def _jsonable_dict(value: dict) -> dict:
    """A dict with its dates as ISO strings, all the way down."""
    return {k: _jsonable(v) for k, v in value.items()}


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
