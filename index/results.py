"""Plain data the engine hands to every face: passages, cited answers, article listings, status."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any, Literal


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
        return tuple(n if n.lower().startswith(("correction", "clarification")) else f"Correction: {n}"
                     for n in self.corrections)


@dataclass(frozen=True)
class Citation:
    """A numbered source of an answer: the quoted passage and its article."""

    number: int
    passage: Passage
    headline: bool = False  # the answer quotes the article's headline: the quotation starts with it

    @property
    def quote(self) -> str:
        """The passage text shown as the quotation (after the article's headline when that is quoted)."""
        return f"{self.passage.title}\n\n{self.passage.text}" if self.headline else self.passage.text


@dataclass(frozen=True)
class Sentence:
    """One sentence of an answer and the citation numbers that support it."""

    text: str
    citations: tuple[int, ...]

    def render(self) -> str:
        """The sentence followed by its markers, e.g. 'Kyiv was hit. [1]'."""
        marks = "".join(f"[{n}]" for n in self.citations)
        return f"{self.text} {marks}".strip()


NOT_COVERED = "The articles I have don't cover that."
HISTORY_TURNS = 3  # earlier question/answer pairs a follow-up is read with


@dataclass(frozen=True)
class Answer:
    """A cited answer: sentences with citation numbers, then the numbered sources."""

    question: str
    sentences: tuple[Sentence, ...]
    citations: tuple[Citation, ...]
    as_of: date
    covered: bool = True
    answerer: str = "extractive"
    notes: tuple[str, ...] = ()
    rewritten: str | None = None  # a follow-up as it was searched for, stand-alone
    log_id: int | None = None  # its row in the question log (what feedback refers to); None when not logged

    @property
    def text(self) -> str:
        """The answer as one paragraph with its citation markers."""
        if not self.covered:
            return NOT_COVERED
        return " ".join(s.render() for s in self.sentences)

    def to_dict(self) -> dict:
        """JSON-able form (dates as ISO strings)."""
        data = asdict(self)
        data["text"] = self.text
        for citation in data["citations"]:
            citation["passage"].pop("sentence_spans", None)
        return _jsonable(data)


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
    server: str | None = None      # the server whose corpus it is in; None: the shared corpus
    added_by: str | None = None    # who added it (as the face that added it named them)
    moderation: str | None = None  # "hidden" or "demoted" by the moderators of the server listing it

    def to_dict(self) -> dict:
        """JSON-able form."""
        return _jsonable(asdict(self))


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
        return _jsonable(asdict(self))


def _jsonable(value: object) -> object:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value
