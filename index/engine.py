"""The facade every face uses: open, add, remove, list, ask, rebuild, status. It delegates: writing to
ingest.Writer, generations and rebuilds to generations.Generations, questions to retrieve and answer; what
servers own and record (settings, feedback, moderation, stats, digests) to community.Community.

Every article and question method takes `server`: None is the shared corpus alone; a server reads its own
articles and the shared ones, and manages (lists as its own, removes, rebuilds) only its own."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from . import articles as readers
from .answer import Answerer, TextCallback
from .articles import Article
from .chunking import embed_text, index_title
from .community import Community
from .dates import EARLIEST, LATEST
from .embedcache import EmbeddingCache
from .embedding import Embedder, load_embed_model, model_id
from .errors import ArticleNotFound, InvalidInput, StoreError
from .followup import standalone
from .generations import Generations
from .importer import ImportReport, import_jsonl
from .ingest import Writer, recover, title_keys
from .intake import FeedInfo, FeedReport, Intake, RefreshReport, remember_fetch
from .locks import DataLocks
from .questionlog import QuestionLog
from .results import HISTORY_TURNS, AddResult, Answer, ArticleInfo, ArticleVectors, RebuildReport, Status, Turn
from .retrieve import HybridRetriever, Retrieval
from .servers import check_server, corpus_key, scope_for
from .settings import Settings
from .shapes import Shaper
from .startup import build_answerer, open_catalog, open_store, prepare_data_dir
from .store import ChromaHandle, chroma_path, move_aside, preload_chromadb
from .story_writer import StoryWriter
from .view import StoreView

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
ProgressFactory = Callable[[str], Progress]


class Engine(Community):
    """Articles in, cited answers out. Thread-safe; every method blocks (call it off the event loop)."""

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        embed_model: Embedder | None = None,
        seed: bool = True,
        progress: ProgressFactory | None = None,
        repair: bool = False,
        **options: Any,
    ) -> Engine:
        """The one start-up path of every face: open the index (upgrading it), settle what an interrupted
        process left, add the seed articles on first use, restore vectors the store lost, and rebuild when
        the index was built with another embedding model or chunking. `progress(label)` gives a progress
        callback for each long step. With repair, an embedded vector store that cannot be opened is moved
        aside and rebuilt from the catalog and the embedding cache."""
        try:
            engine = cls(settings, embed_model=embed_model, **options)
        except StoreError as exc:
            if not (
                repair
                and not settings.chroma_is_server
                and chroma_path(settings).exists()
                and "vector store" in str(exc)
            ):
                raise
            moved = move_aside(settings)
            log.warning("The vector store could not be opened (%s); moved it to %s and rebuilding it", exc, moved)
            engine = cls(settings, embed_model=embed_model, **options)
        try:
            engine._start(seed, progress)
        except BaseException:
            engine.close()
            raise
        return engine

    def __init__(
        self,
        settings: Settings,
        *,
        embed_model: Embedder | None = None,
        chroma_handle: ChromaHandle | None = None,
        answerer: Answerer | None = None,
    ) -> None:
        self.settings = settings
        data_dir = Path(settings.data_dir)
        self.read_only = prepare_data_dir(data_dir)
        if chroma_handle is None and not settings.chroma_is_server:
            preload_chromadb()  # imported while the embedding model loads
        self._embed = embed_model or load_embed_model(settings.embed_model, settings.embed_batch_size)
        self._model_key = model_id(self._embed)
        self._cache = EmbeddingCache(settings.embed_cache_path, read_only=self.read_only)
        self._catalog = open_catalog(
            data_dir / "newsdesk.sqlite3", self._cache, self.read_only, self._embed, self._model_key
        )
        self._locks = DataLocks(data_dir)
        seen = self._catalog.change_seq()
        self._handle = chroma_handle or open_store(settings, self.read_only)
        if self._handle is not None and self._handle.seen_seq < 0:
            self._handle.seen_seq = seen
        self._view = StoreView(self._catalog, self._handle, self._locks)
        self._splitter_made: Any = None
        self._splitter_lock = threading.Lock()
        self._generations = Generations(
            self._catalog,
            self._cache,
            self._handle,  # type: ignore[arg-type]
            self._view,
            self._locks,
            self._embed,
            self._model_key,
            settings.collection_prefix,
            self._chunking_key(),
            self._splitter,
        )
        self._stories = StoryWriter(self._cache, self._embed, self._model_key)
        self._writer = Writer(
            self._catalog, self._cache, self._view, self._embed, self._model_key, self._splitter, self._stories
        )
        self._retriever = HybridRetriever(self._catalog, self._cache, self._view, self._embed, self._model_key)
        self._shapes = Shaper(self._catalog, self._retriever, self._embed)
        self._intake = Intake(self._catalog, settings, self.add_articles)
        self._answerer = answerer or build_answerer(settings, self._embed)
        self._log = QuestionLog(self._catalog, data_dir, settings.question_log_days, self.read_only)
        if not self.read_only:
            self._generations.ensure_live()

    def _start(self, seed: bool, progress: ProgressFactory | None) -> None:
        if self.read_only:
            log.warning("The data directory %s is read-only: answering questions only", self.settings.data_dir)
            return
        self._settle()
        self._stories_current()
        if seed:
            self.ensure_seeded(progress("Indexing seed articles") if progress else None)
        if self.needs_rebuild():
            log.warning(
                "Rebuilding the index: it was built with another embedding model or chunking, or its vectors "
                "lack metadata they are now filtered on (those are re-written from the cache)"
            )
            self.rebuild(progress("Rebuilding") if progress else None)
        else:
            self._generations.restore(progress("Restoring the vector store") if progress else None)

    def _settle(self) -> None:
        """Finish what an interrupted process left: journal entries, retired or abandoned generations."""
        journal = self._catalog.query("SELECT COUNT(*) FROM pending_vectors")[0][0]
        stale = self._catalog.query("SELECT COUNT(*) FROM generations WHERE state != 'live'")[0][0]
        if journal:
            with self._view.writing() as store:
                recover(self._catalog, store)
        if stale:
            self._generations.clean_up()
        self._settle_scopes()

    def _stories_current(self) -> None:
        """Assign every article to its story afresh when the story vectors were made by another model."""
        if self._stories.current(self._catalog.reader()):
            return
        log.warning("Assigning the stored articles to stories (story vectors of the model %s)", self._model_key)
        with self._locks.writing(), self._catalog.transaction("assign the articles to stories") as db:
            self._stories.assign_all(db)

    def _splitter(self) -> Any:
        """LlamaIndex's sentence splitter, made when the first article is chunked."""
        with self._splitter_lock:
            if self._splitter_made is None:
                from .chunking import make_splitter

                self._splitter_made = make_splitter(self.settings.chunk_size, self.settings.chunk_overlap)
            return self._splitter_made

    def _chunking_key(self) -> str:
        # the settings part of how chunks were made; a new chunking method is a migration asking for a rebuild
        return f"{self.settings.chunk_size}:{self.settings.chunk_overlap}"

    # adding ---------------------------------------------------------------------------------------
    def ensure_seeded(self, progress: Progress | None = None) -> int:
        """On first use (no articles yet), add every article in settings.seeds_dir; returns how many were added."""
        state = self._catalog.state()
        if state.seeded or self._catalog.counts()[0]:
            return 0
        seeds = Path(self.settings.seeds_dir)
        articles = []
        for path in readers.iter_article_paths(seeds) if seeds.is_dir() else []:
            try:
                articles.append(readers.read_path(path, max_bytes=self.settings.max_article_bytes))
            except InvalidInput as exc:
                log.warning("Skipping seed %s: %s", path, exc)
        results = self.add_articles(articles, progress) if articles else []
        self._catalog.set_state(seeded=1)
        return sum(r.status != "unchanged" for r in results)

    def add_article(self, article: Article, *, server: str | None = None, actor: str | None = None) -> AddResult:
        """Add or replace one article in a server's corpus; 'unchanged' when the same content is already there."""
        return self.add_articles([article], server=server, actor=actor)[0]

    def add_articles(
        self,
        articles: Sequence[Article],
        progress: Progress | None = None,
        *,
        server: str | None = None,
        actor: str | None = None,
    ) -> list[AddResult]:
        """Add or replace many articles in a server's corpus (None: the shared one), embedding in large batches;
        each article is still all-or-nothing, and searchable by keyword and by vector when this returns.
        `actor` says who added them (shown in listings)."""
        self._writable("add articles")
        server = check_server(server)
        return self._writer.add([replace(a, server=server, stored_id=None) for a in articles], progress, actor)

    def add_text(
        self,
        title: str,
        body: str,
        *,
        outlet: str | None = None,
        published: date | None = None,
        url: str | None = None,
        server: str | None = None,
        actor: str | None = None,
    ) -> AddResult:
        """Add pasted text with a title."""
        return self.add_article(
            readers.article_from_text(
                body,
                title=title,
                outlet=outlet,
                published=published,
                url=url,
                max_bytes=self.settings.max_article_bytes,
            ),
            server=server,
            actor=actor,
        )

    def add_bytes(
        self,
        data: bytes,
        *,
        filename: str | None = None,
        content_type: str | None = None,
        url: str | None = None,
        server: str | None = None,
        actor: str | None = None,
    ) -> AddResult:
        """Add an uploaded file (text, Markdown, HTML, PDF)."""
        return self.add_article(
            readers.article_from_bytes(
                data, filename=filename, content_type=content_type, url=url, max_bytes=self.settings.max_article_bytes
            ),
            server=server,
            actor=actor,
        )

    def add_path(self, path: Path, *, server: str | None = None, actor: str | None = None) -> AddResult:
        """Add a file from disk (with its .meta.toml sidecar when there is one)."""
        return self.add_article(
            readers.read_path(Path(path), max_bytes=self.settings.max_article_bytes), server=server, actor=actor
        )

    def add_url(self, url: str, *, server: str | None = None, actor: str | None = None) -> AddResult:
        """Fetch a URL safely and add the article it holds."""
        from .fetch import fetch_url

        s = self.settings
        page = fetch_url(
            url,
            timeout=s.fetch_timeout,
            max_bytes=s.fetch_max_bytes,
            allow_private=s.fetch_allow_private,
            user_agent=s.user_agent,
        )
        article = readers.article_from_bytes(
            page.data, content_type=page.content_type, url=page.url, max_bytes=s.max_article_bytes
        )
        result = self.add_article(article.with_defaults(url=page.url), server=server, actor=actor)
        with self._catalog.transaction("remember the fetch") as db:  # so that refresh_recent can follow it
            remember_fetch(db, result.article.id, page)
        return result

    def import_jsonl(
        self, path: Path, progress: Progress | None = None, *, server: str | None = None, actor: str | None = None
    ) -> ImportReport:
        """Import a JSONL(.gz) file of articles (url, title, published, authors, body a line) into a server's
        corpus (None: the shared one); bad lines are reported, not fatal; an interrupted import resumes where
        it stopped when run again."""
        self._writable("import articles")
        server = check_server(server)

        def add(articles: Sequence[Article]) -> list[AddResult]:
            if articles and all(a.stored_id for a in articles):  # stored ones cleaned again keep their corpus
                return self._writer.add(articles)
            return self.add_articles(articles, server=server, actor=actor)

        return import_jsonl(
            self._catalog, add, Path(path), progress, max_bytes=self.settings.max_article_bytes, server=server
        )

    # feeds and updates ----------------------------------------------------------------------------
    def add_feed(self, url: str, *, server: str | None = None) -> FeedInfo:
        """Follow an RSS/Atom feed or a (news) sitemap for a server (None: for the shared corpus), after
        fetching it once: a source that cannot be read raises a typed error (FeedError, FetchError,
        BlockedURL...) and stores nothing. Polls add its items to the feed's corpus."""
        self._writable("add feeds")
        return self._intake.add_feed(url, check_server(server))

    def remove_feed(self, feed: int | str, *, server: str | None = None) -> FeedInfo:
        """Stop following one of a server's own feeds (None: a shared feed), by id or URL (its articles stay);
        raises FeedNotFound for any other."""
        self._writable("remove feeds")
        return self._intake.remove_feed(feed, check_server(server))

    def list_feeds(self, *, server: str | None = None) -> list[FeedInfo]:
        """The feeds a server reads (its own and the shared ones; None: the shared ones): title, URL, last and
        next poll, items added, last error, and whose it is."""
        return self._intake.list_feeds(check_server(server))

    def poll_feeds(
        self,
        progress: Progress | None = None,
        now: datetime | None = None,
        *,
        every: bool = False,
        on_feed: Callable[[FeedReport], None] | None = None,
    ) -> list[FeedReport]:
        """One pass over every server's feeds that are due (all of them with every=True): conditional GET, new
        items fetched and added to the feed's corpus. A feed that fails is reported (and backs off), never
        raised."""
        self._writable("poll feeds")
        return self._intake.poll(progress, now, every=every, on_feed=on_feed)

    def refresh_recent(self, max_age: timedelta | None = None, now: datetime | None = None) -> RefreshReport:
        """Fetch again the articles from the web younger than max_age (default NEWSDESK_REFRESH_HOURS), with
        a conditional GET; a changed page replaces its article (same id and corpus; citations show it updated)."""
        self._writable("refresh articles")
        return self._intake.refresh(max_age, now)

    # managing -------------------------------------------------------------------------------------
    def remove(self, article_id: str, *, server: str | None = None, actor: str | None = None) -> ArticleInfo:
        """Remove an article of a server's own corpus and all its chunks; ArticleNotFound for any other
        (another server's, or a shared one when a server asks)."""
        self._writable("remove articles")
        self._own(article_id, server)
        return self._writer.remove(article_id, actor)

    def list_articles(
        self, query: str | None = None, limit: int | None = None, *, server: str | None = None
    ) -> list[ArticleInfo]:
        """The articles a server can cite (its own and the shared ones), newest first, with its moderators'
        marks; with a query, those whose title/outlet/id/url contain it."""
        scope = scope_for(self._catalog.reader(), check_server(server))
        return [
            replace(i, moderation="hidden" if i.id in scope.hidden else "demoted" if i.id in scope.demoted else None)
            for i in self._catalog.infos(query, limit, scope.keys)
        ]

    def get_article(self, article_id: str, *, server: str | None = None) -> Article:
        """A stored article a server can read; raises ArticleNotFound."""
        article = self._catalog.article(article_id)
        if (
            article is None
            or corpus_key(article.server) not in scope_for(self._catalog.reader(), check_server(server)).keys
        ):
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        return article

    def vectors(self, article_id: str, *, server: str | None = None) -> ArticleVectors:
        """An article's title and chunk texts with their stored vectors (for export and benchmarks)."""
        article = self.get_article(article_id, server=server)
        rows = self._catalog.chunks(article_id)
        title = index_title(article.title, article.url)
        keys = title_keys(self._catalog, self._model_key, [article_id])
        found = self._cache.get([r.embed_key for r in rows] + list(keys.values()))
        title_key_ = keys.get(article_id)
        kept = [r for r in rows if r.embed_key in found]
        return ArticleVectors(
            article_id,
            title,
            found.get(title_key_) if title_key_ else None,
            [(r.text, found[r.embed_key]) for r in kept],
            [embed_text(title, r.text) for r in kept],
        )

    # asking ---------------------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        *,
        server: str | None = None,
        asker: str | None = None,
        as_of: date | None = None,
        history: Sequence[Turn] = (),
        on_text: TextCallback | None = None,
        answerer: Answerer | None = None,
    ) -> Answer:
        """Answer a question from the articles a server can read, as of a date (default today), and log it
        (with the asker's id hashed); `answerer` overrides the configured one (the evaluation harness scores
        several on the same index)."""
        started = time.perf_counter()
        server = check_server(server)
        question = " ".join(question.split())
        if not question:
            raise InvalidInput("The question is empty.")
        as_of = as_of or date.today()
        if not EARLIEST <= as_of <= LATEST:
            raise InvalidInput(f"The as-of date {as_of} is out of range ({EARLIEST} to {LATEST}).")
        recent = list(history)[-HISTORY_TURNS:]
        asked = standalone(question, recent)
        scope = scope_for(self._catalog.reader(), server)
        shapes = self._shapes.scoped(scope)
        answer = shapes.answer(
            asked, as_of=as_of, answerer=answerer or self._answerer, history=recent, on_text=on_text
        )  # latest, since, timeline, digest, outlets (index.intent); else None
        if answer is None:
            query = asked if asked != question or not recent else " ".join([recent[-1].question, question])
            retrieval = self._retriever.retrieve(
                query, as_of=as_of, top_k=self.settings.top_k, date_query=question, scope=scope
            )
            answer = (answerer or self._answerer).answer(
                asked, retrieval.passages, as_of=as_of, history=recent, on_text=on_text
            )
            answer = shapes.finish(answer, retrieval.window, as_of)  # sources by story, figures, old news
        answer = replace(answer, question=question, rewritten=asked if asked != question else None)
        log_id = self._log.record(answer, server, asker, time.perf_counter() - started)
        return answer if log_id is None else replace(answer, log_id=log_id)

    def retrieve(
        self, question: str, *, server: str | None = None, as_of: date | None = None, top_k: int | None = None
    ) -> Retrieval:
        """The fused, date-weighted passages for a question from the articles a server can read (no answer)."""
        return self._retriever.retrieve(
            question,
            as_of=as_of or date.today(),
            top_k=top_k or self.settings.top_k,
            scope=scope_for(self._catalog.reader(), check_server(server)),
        )

    # rebuilding -----------------------------------------------------------------------------------
    def rebuild(self, progress: Progress | None = None) -> RebuildReport:
        """Re-index every stored article into a new generation of the store, from the embedding cache
        where it can; switch over only when complete (the old one answers meanwhile)."""
        self._writable("rebuild the index")
        return self._generations.rebuild(progress)

    def rebuild_server(self, server: str | None, progress: Progress | None = None) -> RebuildReport:
        """Re-write the vectors of one server's own corpus (None: the shared corpus) in the live store from its
        stored chunks and the embedding cache; other servers' vectors are not touched."""
        self._writable("rebuild the index")
        return self._generations.rewrite(corpus_key(check_server(server)), progress)

    @property
    def rebuilding(self) -> bool:
        """True while a rebuild runs (in this process or another)."""
        return self._locks.rebuild.held or self._locks.rebuild.is_held_elsewhere()

    def needs_rebuild(self) -> bool:
        """True when the stored articles were indexed with another embedding model or chunking."""
        return self._generations.needs_rebuild()

    # status ---------------------------------------------------------------------------------------
    def status(self, *, server: str | None = None) -> Status:
        """A server's own counts (None: the shared corpus), the configuration, and whether the vector store
        agrees with the catalog (figures of the whole store only for the shared corpus's operator)."""
        key = corpus_key(check_server(server))
        articles, chunks = self._catalog.counts(key)
        s = self.settings
        store = f"chroma server {s.chroma_host}:{s.chroma_port}" if s.chroma_is_server else "embedded chroma"
        extra: dict[str, Any] = {}
        if self._view.handle.client is None:
            extra["problem"] = (
                "The data directory is read-only and the vector store cannot be opened that way: "
                "questions are answered by keyword search only."
            )
            return Status(
                articles=articles,
                chunks=chunks,
                store=store,
                collection="",
                embed_model=self._model_key,
                data_dir=str(s.data_dir),
                answerer=self._answerer.name,
                extra=extra,
            )
        try:
            stored, all_chunks, titles_stored, titled = self._generations.missing_vectors()
            extra = (
                {"vectors": stored, "title_vectors": titles_stored}
                if server is None
                else {"shared_articles": self._catalog.counts("*")[0]}
            )
            if stored < all_chunks or titles_stored < titled:
                extra["problem"] = (
                    f"The vector store holds {stored} of {all_chunks} chunk vectors and "
                    f"{titles_stored} of {titled} title vectors. Run `newsdesk rebuild` to restore "
                    "them from the catalog and the embedding cache (nothing is embedded again)."
                    if server is None
                    else "The vector store lacks vectors of some articles; the "
                    "operator should run `newsdesk rebuild`, which restores them without embedding "
                    "anything again."
                )
        except StoreError as exc:
            extra = {"problem": str(exc)}
        return Status(
            articles=articles,
            chunks=chunks,
            store=store,
            collection=self._catalog.state().collection or "",
            embed_model=self._model_key,
            data_dir=str(s.data_dir),
            answerer=self._answerer.name,
            rebuilding=self.rebuilding,
            extra=extra,
        )

    def close(self) -> None:
        """Release the databases."""
        self._catalog.close()
        self._cache.close()

    def _writable(self, what: str) -> None:
        if self.read_only:
            raise StoreError(f"Cannot {what}: the data directory {self.settings.data_dir} is read-only.")
