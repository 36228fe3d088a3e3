"""`newsdesk bench --scale N`: how the costs grow with the corpus.

An index of N articles is built from copies of a source index's articles (the benchmark corpus, indexed by
`newsdesk eval`): each copy gets its own URL (so its own id), a marked title and a later date, and its
vectors are the original's with a little noise, so nothing is embedded. Then, on that index: the time for
one new article to become searchable (embedding shown apart), removal, questions, the cold start of
`newsdesk ask`, the peak memory of a process that answers questions (as the bot does), and disk use.
"""

from __future__ import annotations

import json
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from index import Article, Embedder, Engine, Settings, load_embed_model, model_id

from .corpus import Question, load_questions
from .scoring import percentile

NOISE = 0.005  # per component; a copy's vector has cosine about 0.995 with its original's
_COPY = re.compile(r" \[copy \d+\]$")
Progress = Callable[[int, int], None]


class ReplayEmbedder:
    """Embeds a copy's texts with the vectors of the original passages they repeat (plus a little noise);
    questions go to the real model. Needs the source index's vectors, read through `Engine.vectors`."""

    def __init__(self, real: Embedder, source: Engine, article_ids: list[str], seed: int = 0) -> None:
        self._real = real
        self.model_name = real.model_name
        self.embed_batch_size = real.embed_batch_size
        self._class = real.class_name()
        self._rng = np.random.default_rng(seed)
        self._titles: dict[str, np.ndarray] = {}
        self._chunks: dict[str, list[tuple[str, np.ndarray]]] = {}
        for article_id in article_ids:
            found = source.vectors(article_id)
            if found.title_vector is not None:
                self._titles[found.title] = np.asarray(found.title_vector, dtype=np.float32)
            self._chunks.setdefault(found.title, []).extend(
                (text, np.asarray(v, dtype=np.float32)) for text, v in found.chunks
            )
        self.misses = 0

    def class_name(self) -> str:
        """The real model's name: the copies' vectors stand for its vectors."""
        return self._class

    def _noisy(self, vector: np.ndarray) -> np.ndarray:
        out = vector + self._rng.normal(0.0, NOISE, size=vector.shape).astype(np.float32)
        return out / np.linalg.norm(out)

    def _vector(self, text: str) -> np.ndarray:
        if text.startswith("title:") and "\n\n" in text:
            title, body = text[len("title:") :].split("\n\n", 1)
            candidates = self._chunks.get(_COPY.sub("", title.strip()), [])
            head = " ".join(body.split())[:60]
            for original, vector in candidates:  # the original passage that holds this one's start
                if head and head in " ".join(original.split()):
                    return self._noisy(vector)
            if candidates:  # chunk boundaries moved: the passage sharing most words
                words = set(body.lower().split())
                best = max(candidates, key=lambda c: len(words & set(c[0].lower().split())))
                return self._noisy(best[1])
        elif _COPY.sub("", text) in self._titles:
            return self._noisy(self._titles[_COPY.sub("", text)])
        self.misses += 1
        return np.asarray(self._real.get_text_embedding(text), dtype=np.float32)

    def embed(self, texts: list[str]) -> np.ndarray:
        """Vectors of chunk and title texts."""
        return np.stack([self._vector(t) for t in texts]) if texts else np.zeros((0, 384), dtype=np.float32)

    def get_query_embedding(self, query: str) -> Any:
        """A question, embedded by the real model."""
        return self._real.get_query_embedding(query)

    def get_text_embedding(self, text: str) -> Any:
        """One text."""
        return self._vector(text)

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> Any:
        """Several texts."""
        return self.embed(texts)


def copy_of(article: Article, k: int) -> Article:
    """The k-th copy of an article: its own URL and id on a host of the k-th copies (so that clutter cleaning,
    which counts an outlet's repeated lines, does not take the copies of one article for boilerplate), a marked
    title, a date k weeks later."""
    parts = urlsplit(article.url or f"https://copies.example/{article.id}")
    url = urlunsplit((parts.scheme, f"copy{k}.{parts.hostname}", parts.path, parts.query, ""))
    return replace(
        article,
        url=url,
        title=f"{article.title} [copy {k}]".strip(),
        published=(article.published + timedelta(days=7 * k)) if article.published else None,
    )


def build(
    target: Settings, embed: ReplayEmbedder, articles: list[Article], n: int, progress: Progress | None = None
) -> dict:
    """Fill the target index with n copies (continuing where an earlier run stopped)."""
    engine = Engine.open(target, embed_model=embed, seed=False)  # type: ignore[arg-type]
    try:
        have = engine.status().articles
        started = time.perf_counter()
        wanted = [copy_of(articles[i % len(articles)], i // len(articles)) for i in range(have, n)]
        for start in range(0, len(wanted), 250):
            engine.add_articles(wanted[start : start + 250])
            if progress:
                progress(have + min(start + 250, len(wanted)), n)
        status = engine.status()
    finally:
        engine.close()
    return {
        "articles": status.articles,
        "chunks": status.chunks,
        "seconds": time.perf_counter() - started,
        "replay_misses": embed.misses,
    }


def measure(
    target: Settings, real: Embedder, embed: ReplayEmbedder, fresh: list[Article], questions: list[Question]
) -> dict:
    """The per-change, per-question and per-process costs on the built index."""
    engine = Engine.open(target, embed_model=embed, seed=False)  # type: ignore[arg-type]
    try:
        engine.ask(questions[0].question, as_of=questions[0].asked_on)  # warm
        adds, embeds, removes = [], [], []
        for article in fresh:
            texts = [article.title] + [article.body[i : i + 900] for i in range(0, len(article.body), 900)]
            started = time.perf_counter()
            real.get_text_embedding_batch(texts)  # what embedding this article costs, shown apart
            embeds.append(time.perf_counter() - started)
            started = time.perf_counter()
            engine.add_article(article)
            adds.append(time.perf_counter() - started)
            assert engine.retrieve(article.title, as_of=article.published or date.today(), top_k=3).passages
        for article in fresh:
            started = time.perf_counter()
            engine.remove(article.id)
            removes.append(time.perf_counter() - started)
        asks = []
        for q in questions:
            started = time.perf_counter()
            engine.ask(q.question, as_of=q.asked_on)
            asks.append(time.perf_counter() - started)
        status = engine.status()
    finally:
        engine.close()
    ms = lambda xs, p: round(percentile([x * 1000 for x in xs], p), 1)
    disk = _disk(Path(target.data_dir)) + (_disk(target.embed_cache_path) if target.embed_cache else 0)
    return {
        "articles": status.articles,
        "chunks": status.chunks,
        "add_ms_p50": ms(adds, 50),
        "add_ms_p95": ms(adds, 95),
        "embedding_ms_p50": ms(embeds, 50),
        "embedding_ms_p95": ms(embeds, 95),
        "remove_ms_p50": ms(removes, 50),
        "remove_ms_p95": ms(removes, 95),
        "ask_ms_p50": ms(asks, 50),
        "ask_ms_p95": ms(asks, 95),
        "disk_mb": round(disk / 1e6, 1),
        "disk_mb_per_1000_articles": round(disk / 1e6 / status.articles * 1000, 1),
        "load": round(os.getloadavg()[0], 2),
    }


def cold_start(target: Settings, question: Question, runs: int = 3) -> dict:
    """`newsdesk ask` in a fresh process: wall time (median) and the process's peak memory."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(target.data_dir), "TQDM_DISABLE": "1"}
    if target.embed_cache:
        env["NEWSDESK_EMBED_CACHE"] = str(target.embed_cache)
    if target.chroma_host:
        env.update(CHROMA_HOST=target.chroma_host, CHROMA_PORT=str(target.chroma_port))
    times, peaks = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "bench.probe", "ask", question.question, question.asked_on.isoformat()],
            env=env,
            capture_output=True,
            text=True,
        )
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            return {"error": done.stderr[-800:]}
        peaks.append(json.loads(done.stdout.strip().splitlines()[-1])["peak_rss_mb"])
    return {
        "cold_start_s_median": round(sorted(times)[len(times) // 2], 2),
        "runs": [round(t, 2) for t in times],
        "ask_process_peak_rss_mb": max(peaks),
    }


def bot_memory(target: Settings, questions: list[Question]) -> dict:
    """Peak memory of a process doing what the bot does: open the index, answer questions, add articles."""
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(target.data_dir), "TQDM_DISABLE": "1"}
    if target.embed_cache:
        env["NEWSDESK_EMBED_CACHE"] = str(target.embed_cache)
    if target.chroma_host:
        env.update(CHROMA_HOST=target.chroma_host, CHROMA_PORT=str(target.chroma_port))
    payload = json.dumps([[q.question, q.asked_on.isoformat()] for q in questions])
    done = subprocess.run(
        [sys.executable, "-m", "bench.probe", "serve"], input=payload, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        return {"error": done.stderr[-800:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def _disk(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def run_scale(
    n: int,
    *,
    source_dir: Path,
    root: Path,
    questions_file: Path,
    progress: Callable[[str], Progress],
    chroma_host: str | None = None,
    chroma_port: int = 8000,
    fresh_count: int = 20,
) -> dict:
    """Build (or extend) the index of n copies and measure it; returns the figures."""
    base = Settings.from_env()
    real = load_embed_model(base.embed_model, base.embed_batch_size)
    source_settings = replace(
        base, data_dir=source_dir, embed_cache=source_dir.parent / "embeddings.sqlite3", llm_base_url=None
    )
    source = Engine.open(source_settings, embed_model=real, seed=False)
    infos = source.list_articles()
    ids = [i.id for i in infos]
    articles = [source.get_article(i) for i in ids]
    embed = ReplayEmbedder(real, source, ids)
    source.close()
    target = replace(
        base,
        data_dir=root / f"scale-{n}",
        embed_cache=None,
        llm_base_url=None,
        seeds_dir=Path("/nonexistent"),
        chroma_host=chroma_host,
        chroma_port=chroma_port,
        collection_prefix=f"scale{n}" if chroma_host else base.collection_prefix,
    )
    figures: dict[str, Any] = {
        "n": n,
        "source": str(source_dir),
        "chroma": chroma_host or "embedded",
        "model": model_id(real),
        "cpus": os.cpu_count(),
    }
    figures["build"] = build(target, embed, articles, n, progress("building"))
    questions = [q for q in load_questions(questions_file)][:60]
    fresh = [copy_of(a, 10_000 + i) for i, a in enumerate(articles[:fresh_count])]
    figures["changes_and_questions"] = measure(target, real, embed, fresh, questions)
    figures["cold_start"] = cold_start(target, questions[0])
    figures["bot_process"] = bot_memory(target, questions[:30])
    figures["peak_rss_mb_this_process"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return figures


def remove_index(root: Path, n: int) -> None:
    """Delete a built scale index."""
    shutil.rmtree(root / f"scale-{n}", ignore_errors=True)
