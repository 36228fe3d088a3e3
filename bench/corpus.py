"""The benchmark's data: corpus and question files, the quick subset, and engines built from a corpus."""

from __future__ import annotations

import gzip
import hashlib
import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import IO

from index import Article, Embedder, Engine, Settings, article_from_record

Progress = Callable[[int, int], None]


def _open_text(path: Path) -> IO[str]:
    path = Path(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def iter_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file (gzip when it ends in .gz), blank lines skipped."""
    with _open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def load_corpus(path: Path) -> list[Article]:
    """Every article of a corpus file (records with an empty body are skipped)."""
    return [article_from_record(r) for r in iter_jsonl(path) if (r.get("body") or "").strip()]


@dataclass(frozen=True)
class Question:
    """A benchmark question: asked as of a date, with its correct answers and source article."""

    id: str
    asked_on: date
    question: str
    answers: tuple[str, ...]
    gold_url: str | None


def load_questions(path: Path) -> list[Question]:
    """The questions of a questions file."""
    return [
        Question(
            id=str(r.get("id", i)),
            asked_on=date.fromisoformat(r["asked_on"]),
            question=r["question"],
            answers=tuple(r.get("answers") or ()),
            gold_url=r.get("gold_url"),
        )
        for i, r in enumerate(iter_jsonl(path))
    ]


def file_digest(path: Path) -> str:
    """sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def eval_data_dir(root: Path, corpus: Path) -> Path:
    """The data directory of the index built from a corpus file: keyed by the file's content."""
    return Path(root) / f"eval-{file_digest(corpus)[:12]}"


def make_subset(corpus: Path, questions: Path, out: Path, *, days: int = 10, extra: int = 200, seed: int = 0) -> Path:
    """A smaller corpus for quick runs: the questions' source articles, every article published within
    ±days of a question's date (the hard negatives: same week, same news), and `extra` random others.

    Deterministic for the same inputs; articles keep their order in the corpus file.
    """
    qs = load_questions(questions)
    gold = {q.gold_url for q in qs if q.gold_url}
    asked = sorted({q.asked_on for q in qs})
    records = list(iter_jsonl(corpus))

    def near(record: dict) -> bool:
        published = record.get("published")
        if not published:
            return False
        day = date.fromisoformat(published)
        return any(abs((day - a).days) <= days for a in asked)

    keep = {i for i, r in enumerate(records) if r.get("url") in gold or near(r)}
    rest = [i for i in range(len(records)) if i not in keep]
    keep |= set(random.Random(seed).sample(rest, min(extra, len(rest))))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with gzip.open(tmp, "wt", encoding="utf-8", compresslevel=6) as handle:
        for i in sorted(keep):
            handle.write(json.dumps(records[i], ensure_ascii=False) + "\n")
    tmp.replace(out)
    return out


def subset_path(root: Path, corpus: Path, questions: Path, days: int = 10, extra: int = 200) -> Path:
    """Where the subset of a corpus for a questions file is kept (built on first use)."""
    key = hashlib.sha256(f"{file_digest(corpus)}:{file_digest(questions)}:{days}:{extra}".encode()).hexdigest()
    path = Path(root) / "subsets" / f"subset-{key[:12]}.jsonl.gz"
    if not path.exists():
        make_subset(corpus, questions, path, days=days, extra=extra)
    return path


def build_engine(
    corpus: Path,
    *,
    root: Path | None = None,
    settings: Settings | None = None,
    embed_model: Embedder | None = None,
    progress: Progress | None = None,
) -> tuple[Engine, dict]:
    """An engine holding the corpus (reusing the one built before from the same file); returns build figures.
    Every index under one root shares one embedding cache, so articles they share are embedded once."""
    base = settings or Settings.from_env()
    root = Path(root or base.data_dir)
    data_dir = eval_data_dir(root, corpus)
    settings = replace(base, data_dir=data_dir, embed_cache=root / "embeddings.sqlite3", llm_base_url=None)
    engine = Engine.open(settings, embed_model=embed_model, seed=False)
    started = time.perf_counter()
    articles = load_corpus(corpus)
    loaded = time.perf_counter()
    results = engine.add_articles(articles, progress=progress)
    if engine.needs_rebuild():  # built with another chunking or model: re-index (unchanged chunks from the cache)
        engine.rebuild(progress)
    seconds = time.perf_counter() - loaded
    counts = engine.status()
    figures = {
        "articles": counts.articles,
        "chunks": counts.chunks,
        "data_dir": str(data_dir),
        "embed_cache": str(settings.embed_cache_path),
        "added": sum(r.status != "unchanged" for r in results),
        "load_seconds": loaded - started,
        "index_seconds": seconds,
    }
    return engine, figures
