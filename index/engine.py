"""The facade every face uses: add, remove, list, ask, rebuild, status."""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Sequence

from . import articles as readers
from .answer import Answerer, ExtractiveAnswerer, TextCallback
from .articles import Article
from .catalog import Catalog
from .chunking import CHUNKING_VERSION, ChunkedArticle, chunk_article, embed_chunks, make_splitter, stored_chunks
from .embedcache import EmbeddingCache
from .embedding import Embedder, load_embed_model, model_id
from .dates import EARLIEST, LATEST
from .errors import ArticleNotFound, InvalidArticle, InvalidInput, RebuildInProgress
from .results import HISTORY_TURNS, AddResult, Answer, ArticleInfo, RebuildReport, Status, Turn
from .retrieve import HybridRetriever, KeywordIndex
from .settings import Settings
from .store import VectorStore, collection_names, drop_collection, make_chroma_client, preload_chromadb

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
ProgressFactory = Callable[[str], Progress]
REBUILD_BATCH = 64   # articles embedded and written per step of a rebuild
URL_IDS = "2"        # how article ids are made from URLs; 2: tracking parameters and '/index.html' dropped


class Engine:
    """Articles in, cited answers out. Thread-safe; every method blocks (call it off the event loop)."""

    @classmethod
    def open(cls, settings: Settings, *, embed_model: Embedder | None = None, seed: bool = True,
             progress: ProgressFactory | None = None, **options: Any) -> "Engine":
        """The one start-up path of every face: open the index, add the seed articles on first use, and
        rebuild when it was built with another embedding model or chunking. `progress(label)` gives a
        progress callback for each long step."""
        engine = cls(settings, embed_model=embed_model, **options)
        try:
            if seed:
                engine.ensure_seeded(progress("Indexing seed articles") if progress else None)
            if engine.needs_rebuild():
                log.warning("The index was built with another embedding model or chunking; rebuilding")
                engine.rebuild(progress("Rebuilding") if progress else None)
        except BaseException:
            engine.close()
            raise
        return engine

    def __init__(self, settings: Settings, *, embed_model: Embedder | None = None,
                 chroma_client: Any = None, answerer: Answerer | None = None) -> None:
        self.settings = settings
        data_dir = Path(settings.data_dir)
        data_dir.mkdir(parents=True, exist_ok=True)
        if chroma_client is None:
            preload_chromadb()  # imported while the embedding model loads
        self._embed = embed_model or load_embed_model(settings.embed_model, settings.embed_batch_size)
        self._model_key = model_id(self._embed)
        self._catalog = Catalog(data_dir / "newsdesk.sqlite3")
        self._cache = EmbeddingCache(settings.embed_cache_path)
        self._catalog.move_embeddings_to(self._cache)
        self._client = chroma_client or make_chroma_client(settings)
        self._splitter_made: Any = None
        self._write_lock = threading.RLock()
        self._rebuild_lock = threading.Lock()
        self._keywords = KeywordIndex(self._catalog, self._cache, data_dir / "bm25", self._embed, self._model_key)
        self._vectors = self._open_active_collection()
        self._retriever = HybridRetriever(self._catalog, self._vectors, self._keywords, self._embed)
        self._answerer = answerer or build_answerer(settings, self._embed)
        self._rekey_articles()

    @property
    def _splitter(self) -> Any:
        """LlamaIndex's sentence splitter, made when the first article is chunked."""
        if self._splitter_made is None:
            self._splitter_made = make_splitter(self.settings.chunk_size, self.settings.chunk_overlap)
        return self._splitter_made

    # adding ---------------------------------------------------------------------------------------
    def ensure_seeded(self, progress: Progress | None = None) -> int:
        """On first use (no articles yet), add every article in settings.seeds_dir; returns how many were added."""
        if self._catalog.counts()[0] or self._catalog.get_state("seeded"):
            return 0
        paths = readers.iter_article_paths(Path(self.settings.seeds_dir))
        added = 0
        for done, path in enumerate(paths, 1):
            try:
                added += self.add_path(path, refresh=False).status != "unchanged"
            except InvalidArticle as exc:
                log.warning("Skipping seed %s: %s", path, exc)
            if progress:
                progress(done, len(paths))
        self._catalog.set_state("seeded", "1")
        return added

    def _rekey_articles(self) -> None:
        # Articles stored before URL canonicalisation last changed move to the id their URL gives now:
        # spellings of one URL become one article, the latest added winning as a fresh add would; chunks'
        # vectors come from the cache. The winner is written under its new id before the old ids are
        # removed, so a crash in between loses nothing (the move is done again on the next start).
        if self._catalog.get_state("url_ids") == URL_IDS:
            return
        urls = {i.id: i.url for i in self._catalog.infos()}
        groups: dict[str, list[str]] = {}
        for old in self._catalog.article_ids():  # oldest added first
            new = readers.url_article_id(urls[old]) if urls.get(old) else old
            groups.setdefault(new, []).append(old)
        moves = {new: olds for new, olds in groups.items() if olds != [new]}
        if moves:
            log.warning("Moving %d articles to their canonical URL's id (once; their vectors come from the cache)",
                        sum(map(len, moves.values())))
            winners = [self._catalog.article(olds[-1]) for new, olds in moves.items() if olds[-1] != new]
            self.add_articles([a for a in winners if a is not None])
            with self._write_lock:
                for new, olds in moves.items():
                    for old in olds:
                        if old != new:
                            self._vectors.delete_ids(self._catalog.delete(old), quiet=True)
        self._catalog.set_state("url_ids", URL_IDS)

    def add_article(self, article: Article, *, refresh: bool = True) -> AddResult:
        """Add or replace one article; 'unchanged' when the same content is already there. With
        refresh=False (many adds in a row) the keyword index is rebuilt by the next question instead."""
        if not article.body.strip():
            raise InvalidArticle("The article text is empty.")
        if self._catalog.content_hash(article.id) == article.content_hash:
            return AddResult("unchanged", self._info(article.id))
        chunked = chunk_article(article, self._splitter, self._model_key)
        embed_chunks([chunked], self._embed, self._cache)
        with self._write_lock:
            previous = self._catalog.content_hash(article.id)
            if previous == article.content_hash:
                return AddResult("unchanged", self._info(article.id))
            self._write(article, chunked)
        if refresh:
            self._keywords.refresh()
        return AddResult("replaced" if previous else "added", self._info(article.id))

    def add_articles(self, articles: Sequence[Article], progress: Progress | None = None,
                     batch_chunks: int = 1024) -> list[AddResult]:
        """Add or replace many articles, embedding in large batches; each article is still all-or-nothing.

        Results are in input order. An article whose content is already stored is 'unchanged' and costs
        nothing; chunks whose text was embedded before (same model, same text) come from the cache. When
        one article (one id) comes several times, the last version is the one added; the earlier ones
        get its result.
        """
        for article in articles:
            if not article.body.strip():
                raise InvalidArticle(f"The article text is empty: {article.title or article.url or article.id!r}.")
        results: list[AddResult | None] = [None] * len(articles)
        pending: list[tuple[int, Article, ChunkedArticle]] = []
        pending_chunks = 0

        def flush() -> None:
            nonlocal pending, pending_chunks
            if not pending:
                return
            embed_chunks([c for _, _, c in pending], self._embed, self._cache)
            with self._write_lock:
                fresh = []
                for index, article, chunked in pending:
                    previous = self._catalog.content_hash(article.id)
                    if previous == article.content_hash:
                        results[index] = AddResult("unchanged", self._info(article.id))
                    else:
                        fresh.append((index, article, chunked, previous))
                self._write_many([(a, c) for _, a, c, _ in fresh])
            for index, article, _, previous in fresh:
                results[index] = AddResult("replaced" if previous else "added", self._info(article.id))
            pending, pending_chunks = [], 0

        last = {article.id: index for index, article in enumerate(articles)}
        for done, (index, article) in enumerate(enumerate(articles), 1):
            superseded = last[article.id] != index  # a later version of it comes in this call
            if not superseded and self._catalog.content_hash(article.id) == article.content_hash:
                results[index] = AddResult("unchanged", self._info(article.id))
            elif not superseded:
                chunked = chunk_article(article, self._splitter, self._model_key)
                pending.append((index, article, chunked))
                pending_chunks += len(chunked.nodes)
                if pending_chunks >= batch_chunks:
                    flush()
            if progress:
                progress(done, len(articles))
        flush()
        self._keywords.refresh()
        if progress:
            progress(len(articles), len(articles))
        return [results[last[article.id]] for article in articles]

    def _write_many(self, items: list[tuple[Article, ChunkedArticle]]) -> None:
        # As _write, for many articles with one vector-store call: vectors first, then each article's
        # catalog transaction; an article whose transaction fails has its new vectors removed again.
        if not items:
            return
        self._vectors.add([n for _, c in items for n in c.nodes])
        replaced: list[str] = []
        try:
            for saved, (article, chunked) in enumerate(items):
                replaced += self._catalog.save(article, chunked.rows)
        except Exception:
            self._vectors.delete_ids([n.node_id for _, c in items[saved:] for n in c.nodes], quiet=True)
            self._vectors.delete_ids(replaced, quiet=True)
            self._keywords.invalidate()
            raise
        self._vectors.delete_ids(replaced, quiet=True)
        self._keywords.invalidate()

    def _write(self, article: Article, chunked: ChunkedArticle) -> None:
        # New chunk ids carry the content hash, so the new version is written beside the old one,
        # recorded in the catalog in one transaction, and only then the old vectors are dropped.
        new_ids = [n.node_id for n in chunked.nodes]
        self._vectors.add(chunked.nodes)
        try:
            replaced = self._catalog.save(article, chunked.rows)
        except Exception:
            self._vectors.delete_ids(new_ids, quiet=True)
            raise
        self._vectors.delete_ids(replaced, quiet=True)
        self._keywords.invalidate()

    def add_text(self, title: str, body: str, *, outlet: str | None = None,
                 published: date | None = None, url: str | None = None) -> AddResult:
        """Add pasted text with a title."""
        return self.add_article(readers.article_from_text(
            body, title=title, outlet=outlet, published=published, url=url,
            max_bytes=self.settings.max_article_bytes))

    def add_bytes(self, data: bytes, *, filename: str | None = None,
                  content_type: str | None = None, url: str | None = None) -> AddResult:
        """Add an uploaded file (text, Markdown, HTML, PDF)."""
        return self.add_article(readers.article_from_bytes(
            data, filename=filename, content_type=content_type, url=url,
            max_bytes=self.settings.max_article_bytes))

    def add_path(self, path: Path, *, refresh: bool = True) -> AddResult:
        """Add a file from disk (with its .meta.toml sidecar when there is one)."""
        return self.add_article(readers.read_path(Path(path), max_bytes=self.settings.max_article_bytes),
                                refresh=refresh)

    def add_url(self, url: str) -> AddResult:
        """Fetch a URL safely and add the article it holds."""
        from .fetch import fetch_url

        s = self.settings
        page = fetch_url(url, timeout=s.fetch_timeout, max_bytes=s.fetch_max_bytes,
                         allow_private=s.fetch_allow_private, user_agent=s.user_agent)
        article = readers.article_from_bytes(page.data, content_type=page.content_type, url=page.url,
                                             max_bytes=s.max_article_bytes)
        return self.add_article(article.with_defaults(url=page.url))

    # managing -------------------------------------------------------------------------------------
    def remove(self, article_id: str) -> ArticleInfo:
        """Remove an article and all its chunks; raises ArticleNotFound."""
        with self._write_lock:
            info = self._info(article_id)
            removed = self._catalog.delete(article_id)
            self._vectors.delete_ids(removed, quiet=True)
            self._keywords.invalidate()
        self._keywords.refresh()
        return info

    def list_articles(self, query: str | None = None, limit: int | None = None) -> list[ArticleInfo]:
        """Articles, newest first; with a query, those whose title/outlet/id/url contain it."""
        return self._catalog.infos(query, limit)

    def get_article(self, article_id: str) -> Article:
        """The stored article; raises ArticleNotFound."""
        article = self._catalog.article(article_id)
        if article is None:
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        return article

    def _info(self, article_id: str) -> ArticleInfo:
        info = self._catalog.info(article_id)
        if info is None:
            raise ArticleNotFound(f"No article has the id {article_id!r}.")
        return info

    # asking ---------------------------------------------------------------------------------------
    def ask(self, question: str, *, as_of: date | None = None, history: Sequence[Turn] = (),
            on_text: TextCallback | None = None, answerer: Answerer | None = None) -> Answer:
        """Answer a question from the articles, as of a date (default today); `answerer` overrides the
        configured one (the evaluation harness scores several on the same index)."""
        question = " ".join(question.split())
        if not question:
            raise InvalidInput("The question is empty.")
        as_of = as_of or date.today()
        if not EARLIEST <= as_of <= LATEST:
            raise InvalidInput(f"The as-of date {as_of} is out of range ({EARLIEST} to {LATEST}).")
        recent = list(history)[-HISTORY_TURNS:]
        query = " ".join([t.question for t in recent[-1:]] + [question])
        retrieval = self._retriever.retrieve(query, as_of=as_of, top_k=self.settings.top_k, date_query=question)
        return (answerer or self._answerer).answer(question, retrieval.passages, as_of=as_of, history=recent,
                                                   on_text=on_text)

    def retrieve(self, question: str, *, as_of: date | None = None, top_k: int | None = None):
        """The fused, date-weighted passages for a question (no answer)."""
        return self._retriever.retrieve(question, as_of=as_of or date.today(), top_k=top_k or self.settings.top_k)

    # rebuilding -----------------------------------------------------------------------------------
    def rebuild(self, progress: Progress | None = None) -> RebuildReport:
        """Re-index every stored article into a new collection; switch over only when complete."""
        if not self._rebuild_lock.acquire(blocking=False):
            raise RebuildInProgress("A rebuild is already running.")
        started = time.monotonic()
        name = self._next_collection_name()
        rechunk = self.needs_rebuild()  # else the stored chunks and their cached vectors are reused as they are
        try:
            self._catalog.clear_staged()
            target = VectorStore(self._client, name)
            embedded, cached, done = self._fill(target, progress, rechunk)
            with self._write_lock:  # the rebuilt chunks replace the old, articles changed meanwhile are brought in
                if rechunk:
                    self._catalog.promote_staged()
                extra_embedded, extra_cached, _ = self._sync(target)
                self._switch_to(target)
            self._keywords.refresh()
            articles, chunks = self._catalog.counts()
            return RebuildReport(articles=articles, chunks=chunks, embedded=embedded + extra_embedded,
                                 cached=cached + extra_cached, seconds=time.monotonic() - started, collection=name)
        except BaseException:
            drop_collection(self._client, name)
            self._catalog.clear_staged()
            raise
        finally:
            self._rebuild_lock.release()

    @property
    def rebuilding(self) -> bool:
        """True while a rebuild runs."""
        return self._rebuild_lock.locked()

    def _fill(self, target: VectorStore, progress: Progress | None, rechunk: bool = True) -> tuple[int, int, int]:
        ids = [info.id for info in self._catalog.infos()]
        total, embedded, cached = len(ids), 0, 0
        if progress:
            progress(0, total)
        for start in range(0, total, REBUILD_BATCH):
            batch = [a for a in (self._catalog.article(i) for i in ids[start : start + REBUILD_BATCH]) if a]
            if rechunk:
                chunked = [chunk_article(a, self._splitter, self._model_key) for a in batch]
            else:
                chunked = [stored_chunks(a, self._catalog.chunks(a.id), self._model_key) for a in batch]
            e, c = embed_chunks(chunked, self._embed, self._cache)
            embedded, cached = embedded + e, cached + c
            target.add([n for ch in chunked for n in ch.nodes])
            if rechunk:
                for article, chunks in zip(batch, chunked):
                    self._catalog.stage_chunks(article, chunks.rows)
            if progress:
                progress(min(start + REBUILD_BATCH, total), total)
        return embedded, cached, total

    def _sync(self, target: VectorStore) -> tuple[int, int, int]:
        wanted = self._catalog.chunk_ids()
        present = target.ids()
        target.delete_ids(sorted(present - wanted))
        missing_articles = {r.article_id for r in self._catalog.chunk_rows(sorted(wanted - present))}
        chunked = [chunk_article(a, self._splitter, self._model_key)
                   for a in (self._catalog.article(i) for i in sorted(missing_articles)) if a]
        e, c = embed_chunks(chunked, self._embed, self._cache)
        target.add([n for ch in chunked for n in ch.nodes if n.node_id not in present])
        return e, c, len(chunked)

    def _switch_to(self, target: VectorStore) -> None:
        old = self._vectors.name
        self._catalog.set_state("collection", target.name)
        self._catalog.set_state("needs_rebuild", "")
        self._catalog.set_state("chunking", self._chunking_key())
        self._vectors = target
        self._retriever.vectors = target
        drop_collection(self._client, old)

    def _chunking_key(self) -> str:
        return f"{CHUNKING_VERSION}:{self.settings.chunk_size}:{self.settings.chunk_overlap}"

    def _collection_prefix(self) -> str:
        return f"{self.settings.collection_prefix}-{_slug(self._model_key)}"

    def _next_collection_name(self) -> str:
        generation = int(self._catalog.get_state("generation", "0") or 0) + 1
        self._catalog.set_state("generation", str(generation))
        return f"{self._collection_prefix()}-g{generation}"

    def _open_active_collection(self) -> VectorStore:
        if not self._catalog.counts()[0]:  # whatever is added from now on is chunked the current way
            self._catalog.set_state("chunking", self._chunking_key())
        name = self._catalog.get_state("collection")
        if not name or not name.startswith(self._collection_prefix()):
            name = self._next_collection_name()  # first run, or another embedding model: a fresh collection
            self._catalog.set_state("collection", name)
            self._catalog.set_state("needs_rebuild", "1" if self._catalog.counts()[0] else "")
        for stale in collection_names(self._client, self.settings.collection_prefix):
            if stale != name:  # left behind by an interrupted rebuild
                drop_collection(self._client, stale)
        return VectorStore(self._client, name)

    def needs_rebuild(self) -> bool:
        """True when the stored articles were indexed with another embedding model or chunking."""
        if self._catalog.get_state("needs_rebuild"):
            return True
        if not self._catalog.counts()[0]:
            return False
        return self._catalog.get_state("chunking") != self._chunking_key()

    # status ---------------------------------------------------------------------------------------
    def status(self) -> Status:
        """Counts and configuration."""
        articles, chunks = self._catalog.counts()
        s = self.settings
        store = f"chroma server {s.chroma_host}:{s.chroma_port}" if s.chroma_is_server else "embedded chroma"
        return Status(articles=articles, chunks=chunks, store=store, collection=self._vectors.name,
                      embed_model=self._model_key, data_dir=str(s.data_dir), answerer=self._answerer.name,
                      rebuilding=self.rebuilding, extra={"vectors": self._vectors.count()})

    def close(self) -> None:
        """Release the database."""
        self._catalog.close()
        self._cache.close()


def build_answerer(settings: Settings, embed_model: Embedder) -> Answerer:
    """The extractive answerer, or an LLM answerer over it when an endpoint is configured."""
    extractive = ExtractiveAnswerer(embed_model)
    if not settings.llm_enabled:
        return extractive
    from .llm_answer import LLMAnswerer, build_llm

    return LLMAnswerer(llm=build_llm(settings), fallback=extractive, embed_model=embed_model)


def _slug(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
