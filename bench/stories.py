"""Measure the story assigner on the labelled sample (bench/data/stories.jsonl), as the engine would run it.

Each half of the sample is added article by article in publication order to an empty StoryIndex (SQLite in
memory, the default window_neighbours query); the script prints pairwise precision, recall and F1 for copies
(pairs in one copy group) and for same story (pairs in one story), and the time per add (the embedding,
which the engine computes anyway, is timed apart).

    python -m bench.stories                      # measure both halves with the module's weights
    python -m bench.stories --fit                # fit the weights on half A, then measure both halves
    python -m bench.stories --vector chunks      # the mean of the article's chunk vectors instead of title+lead
    python -m bench.stories --background 5000    # time per add with the whole corpus stored beforehand
Vectors are cached in --cache (default /tmp/newsdesk-story-vectors.npz): the first run embeds the sample
(title+lead about 15 s, chunks a few minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sqlite3
import time
from datetime import date, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from index import stories
from index.stories import StoryIndex, StoryInput, pair_features, signals_of, story_text

SAMPLE = Path(__file__).resolve().parent / "data" / "stories.jsonl"
CORPUS = Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz")
OUTLETS = {"cnn.com": "CNN", "usatoday.com": "USA Today", "theweek.co.uk": "The Week"}


def outlet_of(url: str) -> str | None:
    """The outlet a corpus URL belongs to."""
    host = url.split("/")[2]
    return next((name for domain, name in OUTLETS.items() if host.endswith(domain)), None)


def load_sample(sample: Path = SAMPLE, corpus: Path = CORPUS) -> list[dict[str, Any]]:
    """The labelled articles with their corpus text, in publication order."""
    labels = [json.loads(line) for line in sample.read_text().splitlines() if line.strip()]
    wanted = {row["url"]: row for row in labels}
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            if row["url"] in wanted:
                wanted[row["url"]].update(title=row["title"], body=row["body"])
    missing = [u for u, r in wanted.items() if "body" not in r]
    if missing:
        raise SystemExit(f"{len(missing)} sample URLs are not in the corpus, e.g. {missing[0]}")
    return sorted(labels, key=lambda r: (r["published"], r["url"]))


def vectors_for(rows: list[dict[str, Any]], kind: str, cache: Path) -> dict[str, np.ndarray]:
    """Story vectors by URL: 'lead' (title+lead), 'title' or 'chunks' (mean of the engine's chunk vectors)."""
    stored: dict[str, np.ndarray] = dict(np.load(cache)) if cache.exists() else {}
    keys = {r["url"]: f"{kind}:{r['url']}" for r in rows}
    todo = [r for r in rows if keys[r["url"]] not in stored]
    if todo:
        from index.embedding import OnnxMiniLMEmbedding

        model = OnnxMiniLMEmbedding()
        started = time.perf_counter()
        for r, v in zip(todo, _embed(model, todo, kind)):
            stored[keys[r["url"]]] = v
        print(f"embedded {len(todo)} articles ({kind}) in {time.perf_counter() - started:.1f} s")
        np.savez(cache, **stored)
    return {u: stored[k] for u, k in keys.items()}


def _embed(model: Any, rows: list[dict[str, Any]], kind: str) -> list[np.ndarray]:
    if kind == "lead":
        return list(model.embed([story_text(r["title"], r["body"]) for r in rows]))
    if kind == "title":
        return list(model.embed([stories.sig.headline(r["title"]) or r["body"][:200] for r in rows]))
    from index.articles import Article
    from index.chunking import chunk_article, embed_text, make_splitter

    splitter = make_splitter(200, 40)
    out = []
    for r in rows:
        article = Article(title=r["title"], body=r["body"], outlet=outlet_of(r["url"]),
                          published=date.fromisoformat(r["published"]), url=r["url"])
        texts = [embed_text(node) for node in chunk_article(article, splitter, "bench").nodes]
        mean = model.embed(texts).mean(axis=0)
        out.append(mean / np.linalg.norm(mean))
    return out


def story_input(row: dict[str, Any], vector: np.ndarray) -> StoryInput:
    """The assigner's view of a sample article."""
    return StoryInput(article_id=row["url"], title=row["title"], body=row["body"],
                      day=date.fromisoformat(row["published"]), outlet=outlet_of(row["url"]), vector=vector)


def run(rows: list[dict[str, Any]], vectors: dict[str, np.ndarray], background: list[StoryInput] = (),
        **params: Any) -> tuple[dict[str, stories.Assignment], list[float]]:
    """Add the rows one by one (after any background articles); their assignments and seconds per add."""
    index = StoryIndex(sqlite3.connect(":memory:"), **params)
    for item in background:
        index.add(item)
    out, times = {}, []
    for row in rows:
        item = story_input(row, vectors[row["url"]])
        started = time.perf_counter()
        out[row["url"]] = index.add(item)
        times.append(time.perf_counter() - started)
    return out, times


def pairwise(gold: dict[str, str | None], predicted: dict[str, str | None]) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and number of gold pairs over all pairs of items (None = in a group of its own)."""
    tp = fp = fn = 0
    for a, b in combinations(sorted(gold), 2):
        g = gold[a] is not None and gold[a] == gold[b]
        p = predicted[a] is not None and predicted[a] == predicted[b]
        tp, fp, fn = tp + (g and p), fp + (p and not g), fn + (g and not p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp + fn


def copy_groups(assignments: dict[str, stories.Assignment]) -> dict[str, str | None]:
    """Each article's copy group: the original it copies, or itself when something copies it."""
    roots = {a.copy_of for a in assignments.values() if a.copy_of}
    return {u: a.copy_of or (u if u in roots else None) for u, a in assignments.items()}


def report(name: str, rows: list[dict[str, Any]], assignments: dict[str, stories.Assignment],
           times: list[float]) -> None:
    """Print the pairwise figures of one run."""
    gold_story = {r["url"]: r["story"] for r in rows}
    gold_copy = {r["url"]: r.get("copy_group") for r in rows}
    cp = pairwise(gold_copy, copy_groups(assignments))
    sp = pairwise(gold_story, {u: a.story_id for u, a in assignments.items()})
    ms = sorted(t * 1000 for t in times)
    print(f"{name:<10} articles {len(rows):>3} | copies P {cp[0]:.3f} R {cp[1]:.3f} F1 {cp[2]:.3f} ({cp[3]} pairs) | "
          f"same story P {sp[0]:.3f} R {sp[1]:.3f} F1 {sp[2]:.3f} ({sp[3]} pairs) | "
          f"add p50 {ms[len(ms) // 2]:.1f} ms p95 {ms[int(len(ms) * 0.95)]:.1f} ms")


def training_pairs(rows: list[dict[str, Any]], vectors: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Features and gold labels of every (article, candidate) pair the assigner scores, in publication order."""
    index = StoryIndex(sqlite3.connect(":memory:"), join_probability=2.0, copy_jaccard=2.0)  # never joins
    gold = {r["url"]: r["story"] for r in rows}
    xs, ys = [], []
    for row in rows:
        item = story_input(row, vectors[row["url"]])
        own = signals_of(item)
        for other, cosine in index.candidates(item):
            xs.append(pair_features(item, own, other, cosine))
            ys.append(float(gold[other.article_id] == gold[row["url"]]))
        index.add(item)
    return np.array(xs), np.array(ys)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-2, steps: int = 50) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton's method)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    reg = np.eye(len(w)) * l2
    reg[-1, -1] = 0.0
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + reg @ w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + reg
        w -= np.linalg.solve(hess, grad)
    return w[:-1], float(w[-1])


def background_items(n: int, exclude: Iterable[str], cache: Path) -> list[StoryInput]:
    """n corpus articles outside the sample, with their title+lead vectors (for the time-per-add scaling)."""
    excluded = set(exclude)
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        rows = [r for r in map(json.loads, f) if r["url"] not in excluded][:n]
    vectors = vectors_for(rows, "lead", cache)
    return [story_input(r, vectors[r["url"]]) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the same-story weights on half A first")
    parser.add_argument("--vector", choices=["lead", "title", "chunks"], default="lead")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/newsdesk-story-vectors.npz"))
    parser.add_argument("--background", type=int, default=0, help="corpus articles stored before each half")
    parser.add_argument("--shuffle", action="store_true", help="add in a random order instead of by date")
    args = parser.parse_args()
    rows = load_sample()
    vectors = vectors_for(rows, args.vector, args.cache)
    halves = {h: [r for r in rows if r["half"] == h] for h in ("A", "B")}
    params: dict[str, Any] = {}
    if args.fit:
        x, y = training_pairs(halves["A"], vectors)
        w, b = fit_logistic(x, y)
        print(f"fitted on half A ({len(y)} candidate pairs, {int(y.sum())} same story): "
              f"weights {dict(zip(stories.FEATURES, np.round(w, 3)))} bias {b:.3f}")
        params = {"weights": tuple(w), "bias": b}
    background = background_items(args.background, [r["url"] for r in rows], args.cache) if args.background else []
    for name, half in halves.items():
        if args.shuffle:
            half = random.Random(15).sample(half, len(half))
        assignments, times = run(half, vectors, background, **params)
        report(f"half {name}", half, assignments, times)


if __name__ == "__main__":
    main()
