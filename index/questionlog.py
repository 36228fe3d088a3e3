"""The question log: what each server was asked and when, what was cited, how long answering took, and whether
the articles covered it; the asker only as a salted hash. Kept `question_log_days` days (0: nothing is
recorded); older rows, and feedback as old, are pruned. Feedback (👍/👎 and why) is stored with a copy of what
it rates, so that it outlives the log row."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from .catalog import Catalog, now_text
from .errors import InvalidInput, NotPermitted, StoreError, UnknownRecord
from .results import Answer
from .servers import corpus_key

log = logging.getLogger(__name__)
PRUNE_EVERY = 3600.0  # seconds between prunings of old rows
SALT_FILE = "user-salt"
REASONS = ("wrong", "outdated", "bad source", "not an answer")


def load_salt(data_dir: Path, read_only: bool) -> bytes:
    """The data directory's salt for user ids (made on first use, readable by its owner only)."""
    path = Path(data_dir) / SALT_FILE
    for _ in range(2):
        try:
            text = path.read_text().strip()
            if text:
                return bytes.fromhex(text)
        except FileNotFoundError:
            pass
        except (OSError, ValueError) as exc:
            raise StoreError(
                f"The salt file {path} cannot be read ({exc}); restore it, or delete it to start a "
                "new one (earlier feedback can then no longer be matched to its askers)."
            ) from exc
        if read_only:
            return b""
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue  # another process made it meanwhile: read theirs
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def user_hash(salt: bytes, user: str) -> str:
    """A user id as stored: salted sha256."""
    return hashlib.sha256(salt + b"\x1f" + user.encode()).hexdigest()


@dataclass(frozen=True)
class LoggedAnswer:
    """One row of the question log."""

    id: int
    server: str | None
    asked_at: datetime
    question: str
    as_of: date
    answer: str
    covered: bool
    cited: tuple[tuple[str, str], ...]  # (chunk id, article id) of each citation
    ms: int
    asker: str | None  # the salted hash


@dataclass(frozen=True)
class Feedback:
    """A rating of an answer, as stored."""

    id: int
    question_id: int
    vote: int
    reason: str | None


class QuestionLog:
    """Writes and prunes the question log and feedback; reads them for moderators."""

    def __init__(self, catalog: Catalog, data_dir: Path, days: int, read_only: bool) -> None:
        self.catalog, self.days, self.read_only = catalog, days, read_only
        self._salt = load_salt(data_dir, read_only)
        self._pruned = -PRUNE_EVERY  # the first record prunes
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """True when questions are recorded."""
        return self.days > 0 and not self.read_only

    def hash(self, user: str) -> str:
        """A user id as stored."""
        return user_hash(self._salt, user)

    def record(self, answer: Answer, server: str | None, asker: str | None, seconds: float) -> int | None:
        """Log an answer; its row id, or None when the log is off or cannot be written (the answer still goes out)."""
        if not self.enabled:
            return None
        cited = [[c.passage.chunk_id, c.passage.article_id] for c in answer.citations]
        try:
            self.prune()
            with self.catalog.transaction("record the question") as db:
                return int(
                    db.execute(
                        "INSERT INTO questions(server, asked_at, question, as_of, answer, covered, cited, ms, asker,"
                        " answerer) VALUES(?,?,?,?,?,?,?,?,?,?)",
                        (
                            corpus_key(server),
                            now_text(),
                            answer.question,
                            answer.as_of.isoformat(),
                            answer.text,
                            int(answer.covered),
                            json.dumps(cited, separators=(",", ":")),
                            round(seconds * 1000),
                            self.hash(asker) if asker else None,
                            answer.answerer,
                        ),
                    ).lastrowid
                    or 0
                )
        except StoreError as exc:
            log.warning("The question was answered but not logged: %s", exc)
            return None

    def prune(self, force: bool = False) -> int:
        """Delete log rows and feedback older than the retention (at most once an hour unless forced)."""
        if self.read_only:
            return 0
        with self._lock:
            if not force and time.monotonic() - self._pruned < PRUNE_EVERY:
                return 0
            self._pruned = time.monotonic()
        cutoff = (datetime.now(UTC) - timedelta(days=self.days)).isoformat(timespec="seconds")
        with self.catalog.transaction("prune the question log") as db:
            gone = db.execute("DELETE FROM questions WHERE asked_at < ?", (cutoff,)).rowcount
            gone += db.execute("DELETE FROM feedback WHERE updated_at < ?", (cutoff,)).rowcount
        return int(gone)

    def entry(self, log_id: int, server: str | None) -> LoggedAnswer:
        """A logged answer of this server; UnknownRecord when there is none (pruned, another server's)."""
        rows = self.catalog.query(
            "SELECT id, server, asked_at, question, as_of, answer, covered, cited, ms, asker FROM questions"
            " WHERE id = ? AND server = ?",
            (int(log_id), corpus_key(server)),
        )
        if not rows:
            raise UnknownRecord(
                "I no longer have a record of this answer (it is older than the question log keeps, "
                "or the log was turned off), so feedback on it cannot be stored. Ask again to rate "
                "the new answer."
            )
        i, srv, at, question, as_of, text, covered, cited, ms, asker = rows[0]
        return LoggedAnswer(
            int(i),
            None if srv == "*" else srv,
            datetime.fromisoformat(at),
            question,
            date.fromisoformat(as_of),
            text,
            bool(covered),
            tuple((c, a) for c, a in json.loads(cited)),
            int(ms),
            asker,
        )

    def rate(self, log_id: int, *, server: str | None, user: str, vote: int, reason: str | None = None) -> Feedback:
        """Store the asker's 👍 (+1) or 👎 (-1) and reason, replacing their earlier rating of the same answer;
        NotPermitted for anyone but the asker, UnknownRecord for an answer no longer logged: nothing is stored."""
        if vote not in (1, -1):
            raise InvalidInput("A rating is +1 or -1.")
        if reason is not None and reason not in REASONS:
            raise InvalidInput(f"{reason[:40]!r} is not a reason; the reasons are: {', '.join(REASONS)}.")
        entry = self.entry(log_id, server)
        who = self.hash(user)
        if entry.asker != who:
            raise NotPermitted("Only the person who asked can rate this answer.")
        now = now_text()
        with self.catalog.transaction("store the feedback") as db:
            db.execute(
                "INSERT INTO feedback(question_id, server, user, vote, reason, question, as_of, answer, cited,"
                " created_at, updated_at) VALUES(?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(question_id, user) DO UPDATE SET"
                " vote=excluded.vote, reason=excluded.reason, updated_at=excluded.updated_at",
                (
                    entry.id,
                    corpus_key(server),
                    who,
                    vote,
                    reason,
                    entry.question,
                    entry.as_of.isoformat(),
                    entry.answer,
                    json.dumps([list(c) for c in entry.cited], separators=(",", ":")),
                    now,
                    now,
                ),
            )
            row = db.execute(
                "SELECT id, vote, reason FROM feedback WHERE question_id=? AND user=?", (entry.id, who)
            ).fetchone()
        return Feedback(int(row[0]), entry.id, int(row[1]), row[2])

    def feedback(self, feedback_id: int, server: str | None) -> tuple[Feedback, str, list[tuple[str, str]]]:
        """A stored rating of this server, with its question and cited (chunk, article) ids; UnknownRecord else."""
        rows = self.catalog.query(
            "SELECT id, question_id, vote, reason, question, cited FROM feedback WHERE id = ? AND server = ?",
            (int(feedback_id), corpus_key(server)),
        )
        if not rows:
            raise UnknownRecord("That report is no longer stored.")
        i, qid, vote, reason, question, cited = rows[0]
        return Feedback(int(i), int(qid), int(vote), reason), question, [(c, a) for c, a in json.loads(cited)]

    def reports(self, server: str | None, reason: str, limit: int) -> list[tuple[Feedback, str, list[tuple[str, str]]]]:
        """The latest 👎 of this server given for a reason, newest first."""
        rows = self.catalog.query(
            "SELECT id FROM feedback WHERE server = ? AND vote = -1 AND reason = ?"
            " ORDER BY updated_at DESC, id DESC LIMIT ?",
            (corpus_key(server), reason, limit),
        )
        return [self.feedback(r[0], server) for r in rows]
