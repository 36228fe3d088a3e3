"""The facade every face uses: add, remove, list, ask, rebuild, status."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Callable, Sequence

from .answer import TextCallback
from .articles import Article
from .results import AddResult, Answer, ArticleInfo, RebuildReport, Status, Turn
from .settings import Settings

Progress = Callable[[int, int], None]


class Engine:
    """Articles in, cited answers out. Thread-safe; every method blocks (call it off the event loop)."""

    def __init__(self, settings: Settings) -> None:
        raise NotImplementedError

    def ensure_seeded(self, progress: Progress | None = None) -> int:
        """On first use (empty index), add every article in settings.seeds_dir; returns how many were added."""
        raise NotImplementedError

    def add_article(self, article: Article) -> AddResult:
        """Add or replace one article; 'unchanged' when the same content is already there."""
        raise NotImplementedError

    def add_text(self, title: str, body: str, *, outlet: str | None = None,
                 published: date | None = None, url: str | None = None) -> AddResult:
        """Add pasted text with a title."""
        raise NotImplementedError

    def add_bytes(self, data: bytes, *, filename: str | None = None,
                  content_type: str | None = None, url: str | None = None) -> AddResult:
        """Add an uploaded file (text, Markdown, HTML, PDF)."""
        raise NotImplementedError

    def add_path(self, path: Path) -> AddResult:
        """Add a file from disk (with its .meta.toml sidecar when there is one)."""
        raise NotImplementedError

    def add_url(self, url: str) -> AddResult:
        """Fetch a URL safely and add the article it holds."""
        raise NotImplementedError

    def remove(self, article_id: str) -> ArticleInfo:
        """Remove an article and all its chunks; raises ArticleNotFound."""
        raise NotImplementedError

    def list_articles(self, query: str | None = None, limit: int | None = None) -> list[ArticleInfo]:
        """Articles, newest first; with a query, those whose title/outlet/id contain it."""
        raise NotImplementedError

    def get_article(self, article_id: str) -> Article:
        """The stored article; raises ArticleNotFound."""
        raise NotImplementedError

    def ask(self, question: str, *, as_of: date | None = None, history: Sequence[Turn] = (),
            on_text: TextCallback | None = None) -> Answer:
        """Answer a question from the articles, as of a date (default today)."""
        raise NotImplementedError

    def rebuild(self, progress: Progress | None = None) -> RebuildReport:
        """Re-index every stored article into a new collection; switch over only when complete."""
        raise NotImplementedError

    def status(self) -> Status:
        """Counts and configuration."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the store and database."""
        raise NotImplementedError
