"""Bulk import of a JSONL file, plain or gzip (one article a line: url, title, published, authors, body; the
benchmark corpus's shape). Two passes for page clutter: every article's lines are counted first, then each
article is cleaned against all of them. Resumable: the catalog remembers, by the file's digest, how many lines
have landed, and a re-run starts there (an article that landed twice is simply 'unchanged')."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import IO

from . import cleaning
from .articles import Article, article_from_record, human_size
from .catalog import Catalog, now_text
from .errors import InvalidArticle, InvalidInput
from .results import AddResult

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
AddArticles = Callable[[Sequence[Article]], list[AddResult]]
BATCH = 32  # articles added, and progress remembered, per step
RECORD_BATCH = 500  # articles whose lines are counted per transaction in the first pass
MAX_ERRORS = 100  # line errors kept in a report (all are counted)


@dataclass(frozen=True)
class LineError:
    """A line of the file that could not become an article, and why."""

    line: int
    error: str


@dataclass(frozen=True)
class ImportReport:
    """What an import did: lines in the file, articles added (or updated) and unchanged, lines refused."""

    path: str
    lines: int
    added: int = 0
    unchanged: int = 0
    failed: int = 0
    errors: tuple[LineError, ...] = ()  # the first MAX_ERRORS of this run
    resumed_at: int = 0  # lines an earlier, interrupted run had already imported
    already_done: bool = False  # the same file (same digest) was imported completely before


def import_jsonl(
    catalog: Catalog,
    add: AddArticles,
    path: Path,
    progress: Progress | None = None,
    *,
    max_bytes: int,
    server: str | None = None,
) -> ImportReport:
    """Import every article of a JSONL(.gz) file into a server's corpus (`add` writes there; None: the shared
    one); bad lines are reported, not fatal; resumes an earlier run (of the same file into the same corpus)."""
    path = Path(path)
    digest = _digest(path) if server is None else f"{_digest(path)}@{server}"
    row = catalog.query("SELECT total, position, recorded, finished_at FROM imports WHERE digest=?", (digest,))
    if row and row[0][3]:
        return ImportReport(str(path), int(row[0][0]), already_done=True, resumed_at=int(row[0][1]))
    if not row:
        with catalog.transaction("start the import") as db:
            db.execute("INSERT INTO imports(digest, path, started_at) VALUES(?, ?, ?)", (digest, str(path), now_text()))
    total, position, recorded = (int(v) for v in row[0][:3]) if row else (0, 0, 0)
    crossed: cleaning.Crossed = {}
    if not recorded:
        total, crossed = _count_lines(catalog, path, digest, max_bytes, server)
    report = _add_all(catalog, add, path, digest, position, total, progress, max_bytes)
    again = cleaning.to_clean_again(catalog, crossed)
    if again:  # lines of the file made some articles stored before it boilerplate-bearing: clean them again
        add(again)
    return report


def _count_lines(
    catalog: Catalog, path: Path, digest: str, max_bytes: int, server: str | None
) -> tuple[int, cleaning.Crossed]:
    """First pass: record every valid article's lines; returns the file's line count and the lines that
    became boilerplate."""
    crossed: cleaning.Crossed = {}
    batch: list[Article] = []
    lines = 0

    def flush(done: bool) -> None:
        with catalog.transaction("count the imported articles' lines") as db:
            for outlet, fps in cleaning.record_lines(db, batch).items():
                crossed.setdefault(outlet, set()).update(fps)
            if done:
                db.execute("UPDATE imports SET total=?, recorded=1 WHERE digest=?", (lines, digest))
        batch.clear()

    for lines, record in _records(path, 0, max_bytes):  # noqa: B007 - flush() reads the line count
        if isinstance(record, Article):
            batch.append(replace(record, server=server))  # under the id it will be stored with
            if len(batch) >= RECORD_BATCH:
                flush(False)
    flush(True)
    return lines, crossed


def _add_all(
    catalog: Catalog,
    add: AddArticles,
    path: Path,
    digest: str,
    position: int,
    total: int,
    progress: Progress | None,
    max_bytes: int,
) -> ImportReport:
    """Second pass: add the articles from line `position` on, remembering after each batch how far it got."""
    run = _Run(catalog, add, digest, total, progress)
    if progress:
        progress(position, total)
    line = position
    for line, record in _records(path, position, max_bytes):
        if isinstance(record, LineError):
            run.refuse(record)
        elif record is not None:
            run.batch.append((line, record))
        if len(run.batch) >= BATCH:
            run.land(line)
    run.land(max(line, total))
    return ImportReport(str(path), total, run.added, run.unchanged, run.failed, tuple(run.errors), resumed_at=position)


class _Run:
    """The second pass's counts, and its current batch."""

    def __init__(self, catalog: Catalog, add: AddArticles, digest: str, total: int, progress: Progress | None) -> None:
        self.catalog, self.add, self.digest, self.total, self.progress = catalog, add, digest, total, progress
        self.batch: list[tuple[int, Article]] = []  # (line, article)
        self.errors: list[LineError] = []
        self.added = self.unchanged = self.failed = self._refused = 0

    def refuse(self, error: LineError) -> None:
        """A line that cannot become an article."""
        self._refused += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(error)

    def land(self, upto: int) -> None:
        """Add the batch, then remember that every line up to `upto` is done."""
        results = _add_batch(self.add, self.batch, self.errors)
        added = sum(r.status != "unchanged" for r in results)
        failed = self._refused + len(self.batch) - len(results)
        self.added, self.unchanged = self.added + added, self.unchanged + len(results) - added
        self.failed += failed
        with self.catalog.transaction("remember the import's progress") as db:
            db.execute(
                "UPDATE imports SET position=?, added=added+?, failed=failed+?,"
                " finished_at=CASE WHEN ? >= total THEN ? END WHERE digest=?",
                (upto, added, failed, upto, now_text(), self.digest),
            )
        self.batch.clear()
        self._refused = 0
        if self.progress:
            self.progress(upto, self.total)


def _add_batch(add: AddArticles, batch: list[tuple[int, Article]], errors: list[LineError]) -> list[AddResult]:
    """Add a batch; when an article is refused, the others one by one."""
    if not batch:
        return []
    try:
        return add([article for _, article in batch])
    except InvalidArticle:
        pass
    out = []
    for line, article in batch:
        try:
            out += add([article])
        except InvalidArticle as exc:
            if len(errors) < MAX_ERRORS:
                errors.append(LineError(line, str(exc)))
    return out


def _records(path: Path, skip: int, max_bytes: int) -> Iterator[tuple[int, Article | LineError | None]]:
    """(line number, the line's article, or its error, or None for a blank line) from line skip + 1 on."""
    number = 0
    try:
        with _open(path) as handle:
            for number, raw in enumerate(handle, 1):
                if number > skip:
                    yield number, _record(number, raw, max_bytes)
    except (OSError, EOFError, zlib.error) as exc:
        raise InvalidInput(
            f"{path} could not be read after line {number} ({exc}); the lines before it were "
            "imported, and running the import again resumes there."
        ) from None


def _record(number: int, raw: bytes, max_bytes: int) -> Article | LineError | None:
    if not raw.strip():
        return None
    if len(raw) > max_bytes:
        return LineError(number, f"the line is {human_size(len(raw))}; an article may be {human_size(max_bytes)}")
    try:
        record = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return LineError(number, f"not valid UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return LineError(number, f"not valid JSON ({exc.msg} at column {exc.colno})")
    if not isinstance(record, dict):
        return LineError(number, f"a record must be a JSON object, not a {type(record).__name__}")
    try:
        article = article_from_record(record)
    except InvalidArticle as exc:
        return LineError(number, str(exc))
    if not article.body.strip():
        return LineError(number, "the record's body is empty")
    return article


def _open(path: Path) -> IO[bytes]:
    """The file's bytes, decompressed when it is gzip (by its first bytes, whatever its name)."""
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gzipped else open(path, "rb")  # type: ignore[return-value]


def _digest(path: Path) -> str:
    """sha256 of the file's bytes; a file that cannot be read is a clear error."""
    if not path.is_file():
        raise InvalidInput(f"No such file: {str(path)[:300]}" if not path.exists() else f"Not a file: {path}")
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise InvalidInput(f"Cannot read {str(path)[:300]}: {exc.strerror or exc}") from None
    return digest.hexdigest()
