"""The part of the engine's facade that serves communities: sharing articles between corpora, each server's
settings (opaque JSON its face owns), feedback on answers, moderators' hidden and demoted articles, the
question log's figures, and daily digests. Engine inherits it; it uses the engine's collaborators."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import TYPE_CHECKING

from .catalog import Catalog, now_text
from .chunking import chunk_vectors, stored_chunks
from .errors import ArticleNotFound, InvalidInput
from .generations import write_vectors
from .keywords import set_corpus
from .questionlog import REASONS, Feedback
from .results import Answer, ArticleInfo
from .servers import SHARED, check_server, corpus_key, keyword_token, log_event, scope_for, server_of

if TYPE_CHECKING:
    from .embedcache import EmbeddingCache
    from .embedding import Embedder
    from .questionlog import QuestionLog
    from .settings import Settings
    from .view import StoreView

CONFIG_MAX_BYTES = 64_000
MODES = ("hidden", "demoted")


@dataclass(frozen=True)
class ArticleEvent:
    """Who added, replaced, removed, shared or moderated an article, and when."""

    article_id: str
    title: str
    action: str
    actor: str | None
    at: datetime


@dataclass(frozen=True)
class Report:
    """A 👎 given for a reason, with the question and the articles the answer cited (those still readable)."""

    id: int
    question: str
    reason: str | None
    sources: tuple[ArticleInfo, ...]


class Community:
    """Sharing, settings, feedback, moderation, statistics and digests (mixed into Engine)."""

    settings: Settings
    read_only: bool
    _catalog: Catalog
    _cache: EmbeddingCache
    _view: StoreView
    _embed: Embedder
    _model_key: str
    _log: QuestionLog

    def _writable(self, what: str) -> None:  # the engine's
        raise NotImplementedError

    # corpora --------------------------------------------------------------------------------------
    def _own(self, article_id: str, server: str | None) -> ArticleInfo:
        """An article of the server's own corpus; ArticleNotFound for any other."""
        info = self._catalog.info(article_id)
        if info is None or corpus_key(info.server) != corpus_key(check_server(server)):
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        return info

    def share(self, article_id: str, *, server: str, actor: str | None = None) -> ArticleInfo:
        """Move an article of a server's corpus to the shared corpus (the operator's choice: every server reads it)."""
        self._writable("share articles")
        if check_server(server) is None:
            raise InvalidInput("Name the server whose article to share.")
        self._own(article_id, server)
        return self._move(article_id, SHARED, "shared", actor)

    def unshare(self, article_id: str, *, server: str, actor: str | None = None) -> ArticleInfo:
        """Give a shared article back to the server it was added in (only that server reads it again)."""
        self._writable("unshare articles")
        rows = self._catalog.query("SELECT server, origin FROM articles WHERE id = ?", (article_id,))
        if not rows or rows[0][0] != SHARED or rows[0][1] != check_server(server):
            raise ArticleNotFound(f"No shared article added in server {server!r} has the id {article_id!r}.")
        return self._move(article_id, server, "unshared", actor)

    def _move(self, article_id: str, key: str, action: str, actor: str | None) -> ArticleInfo:
        with self._view.writing():
            with self._catalog.transaction("move the article") as db:
                title = db.execute("SELECT title FROM articles WHERE id = ?", (article_id,)).fetchone()[0]
                db.execute("UPDATE articles SET server = ? WHERE id = ?", (key, article_id))
                seqs = [r[0] for r in db.execute("SELECT seq FROM chunks WHERE article_id = ?", (article_id,))]
                set_corpus(db, seqs, keyword_token(key))
                db.execute("INSERT OR IGNORE INTO pending_scopes(article_id) VALUES(?)", (article_id,))
                log_event(db, article_id, key, title, action, actor, now_text())
                Catalog.bump(db, [article_id])  # a rebuild running now brings it over with its new metadata
        self._settle_scopes()
        return self._own(article_id, server_of(key))

    def _settle_scopes(self) -> None:
        """Give the vectors of articles whose corpus changed the metadata of their corpus (from the cache)."""
        ids = [r[0] for r in self._catalog.query("SELECT article_id FROM pending_scopes")]
        if not ids:
            return
        with self._view.writing() as live:
            chunked = [
                stored_chunks(a, self._catalog.chunks(a.id), self._model_key)
                for a in (self._catalog.article(i) for i in ids)
                if a is not None
            ]
            vectors, _ = chunk_vectors(chunked, self._embed, self._cache)
            write_vectors(live, chunked, vectors)
            with self._catalog.transaction("finish moving articles") as db:
                db.executemany("DELETE FROM pending_scopes WHERE article_id = ?", [(i,) for i in ids])
                Catalog.bump(db)

    def article_history(
        self, *, server: str | None = None, actions: tuple[str, ...] = ("removed",), limit: int = 50
    ) -> list[ArticleEvent]:
        """What was done to a server's own articles (default: removals), newest first."""
        marks = ",".join("?" * len(actions))
        rows = self._catalog.query(
            f"SELECT article_id, title, action, actor, at FROM article_log WHERE server = ? AND action IN ({marks})"
            " ORDER BY seq DESC LIMIT ?",
            (corpus_key(check_server(server)), *actions, int(limit)),
        )
        return [ArticleEvent(a, t, act, who, datetime.fromisoformat(at)) for a, t, act, who, at in rows]

    # settings -------------------------------------------------------------------------------------
    def get_server_config(self, server: str | None) -> dict:
        """A server's settings as its face stored them ({} when none)."""
        rows = self._catalog.query(
            "SELECT config FROM server_config WHERE server = ?", (corpus_key(check_server(server)),)
        )
        return json.loads(rows[0][0]) if rows else {}

    def set_server_config(self, server: str | None, config: dict) -> None:
        """Store a server's settings (any JSON object of up to 64 kB), replacing the earlier ones."""
        self._writable("store settings")
        if not isinstance(config, dict):
            raise InvalidInput("Server settings are a JSON object.")
        try:
            text = json.dumps(config, separators=(",", ":"), sort_keys=True)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"Server settings must be plain JSON: {exc}.") from None
        if len(text.encode()) > CONFIG_MAX_BYTES:
            raise InvalidInput(f"Server settings are limited to {CONFIG_MAX_BYTES:,} bytes.")
        with self._catalog.transaction("store the server's settings") as db:
            db.execute(
                "INSERT INTO server_config(server, config, updated_at) VALUES(?,?,?) ON CONFLICT(server)"
                " DO UPDATE SET config=excluded.config, updated_at=excluded.updated_at",
                (corpus_key(check_server(server)), text, now_text()),
            )

    # feedback and moderation ----------------------------------------------------------------------
    @property
    def question_log_enabled(self) -> bool:
        """True when questions are logged (and their answers can be rated)."""
        return self._log.enabled

    def rate_answer(
        self, log_id: int, *, server: str | None, user: str, vote: int, reason: str | None = None
    ) -> Feedback:
        """Store the asker's 👍 (vote 1) or 👎 (-1, with one of REASONS) on a logged answer of this server;
        NotPermitted for anyone else, UnknownRecord when it is no longer logged (nothing stored either way)."""
        self._writable("store feedback")
        return self._log.rate(log_id, server=check_server(server), user=user, vote=vote, reason=reason)

    def reports(self, server: str | None, *, reason: str = "bad source", limit: int = 5) -> list[Report]:
        """The latest 👎 given for a reason in a server, with the cited articles it can still read."""
        if reason not in REASONS:
            raise InvalidInput(f"{reason!r} is not a reason; the reasons are: {', '.join(REASONS)}.")
        out = []
        scope = scope_for(self._catalog.reader(), check_server(server))
        for feedback, question, cited in self._log.reports(server, reason, limit):
            ids = list(dict.fromkeys(a for _, a in cited))
            infos = {
                i.id: replace(
                    i, moderation="hidden" if i.id in scope.hidden else "demoted" if i.id in scope.demoted else None
                )
                for i in self._catalog.infos_for(ids)
                if corpus_key(i.server) in scope.keys
            }
            out.append(Report(feedback.id, question, feedback.reason, tuple(infos[a] for a in ids if a in infos)))
        return out

    def moderate(
        self,
        article_id: str,
        *,
        server: str | None,
        mode: str | None,
        actor: str | None = None,
        report: int | None = None,
    ) -> ArticleInfo:
        """Hide an article from a server's answers, demote it (it weighs less), or restore it (mode None); with
        `report`, the article must be one that report's answer cited. Other servers are not affected."""
        self._writable("moderate articles")
        server = check_server(server)
        if mode is not None and mode not in MODES:
            raise InvalidInput(f"{mode!r} is not a way to moderate an article (hidden, demoted, or none to restore).")
        if report is not None:
            _, _, cited = self._log.feedback(report, server)
            if article_id not in {a for _, a in cited}:
                raise InvalidInput("That article is not one the reported answer cited.")
        info = self._catalog.info(article_id)
        if info is None or corpus_key(info.server) not in scope_for(self._catalog.reader(), server).keys:
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        key = corpus_key(server)
        with self._catalog.transaction("moderate the article") as db:
            if mode is None:
                db.execute("DELETE FROM moderation WHERE server = ? AND article_id = ?", (key, article_id))
            else:
                db.execute(
                    "INSERT INTO moderation(server, article_id, mode, actor, reason, at) VALUES(?,?,?,?,?,?)"
                    " ON CONFLICT(server, article_id) DO UPDATE SET mode=excluded.mode, actor=excluded.actor,"
                    " reason=excluded.reason, at=excluded.at",
                    (key, article_id, mode, actor, f"report {report}" if report else None, now_text()),
                )
            log_event(db, article_id, key, info.title, mode or "restored", actor, now_text())
        return next(i for i in self.list_articles(info.id, 50, server=server) if i.id == article_id)  # type: ignore[attr-defined]

    # figures and digests --------------------------------------------------------------------------
    def stats(self, server: str | None, *, days: int = 30, today: date | None = None) -> dict:
        """A server's questions per day, not-covered rate, coverage gaps (grouped) and worst-rated answers."""
        from .stats import server_stats

        if not 1 <= days <= 3650:
            raise InvalidInput("Statistics cover 1 to 3650 days.")
        return server_stats(
            self._catalog, corpus_key(check_server(server)), days=days, today=today, logging=self._log.enabled
        )

    def digest(self, server: str | None, day: date) -> Answer:
        """The day's top stories a server can read, most covered first, one cited line each (not covered when
        nothing is new that day)."""
        from .answer import ExtractiveAnswerer
        from .digest import build_digest

        scope = scope_for(self._catalog.reader(), check_server(server))
        return build_digest(self._catalog, ExtractiveAnswerer(self._embed), scope, day)

    def claim_digest(self, server: str | None, day: date) -> bool:
        """Claim a server's digest of a day (False when it was claimed before: at most one a day)."""
        self._writable("record the digest")
        with self._catalog.transaction("claim the digest") as db:
            return (
                db.execute(
                    "INSERT OR IGNORE INTO digests(server, day, status, at) VALUES(?,?,'claimed',?)",
                    (corpus_key(check_server(server)), day.isoformat(), now_text()),
                ).rowcount
                == 1
            )

    def finish_digest(self, server: str | None, day: date, status: str) -> None:
        """Record how a claimed digest ended ('posted', 'skipped' when nothing was new, 'failed')."""
        with self._catalog.transaction("record the digest") as db:
            db.execute(
                "UPDATE digests SET status = ?, at = ? WHERE server = ? AND day = ?",
                (status, now_text(), corpus_key(check_server(server)), day.isoformat()),
            )

    def digest_status(self, server: str | None, day: date) -> str | None:
        """How a server's digest of a day went (None: not yet)."""
        rows = self._catalog.query(
            "SELECT status FROM digests WHERE server = ? AND day = ?",
            (corpus_key(check_server(server)), day.isoformat()),
        )
        return rows[0][0] if rows else None
