"""Measure the story assigner on the labelled sample (bench/data/stories.jsonl), as the engine would run it.

Each half of the sample is added article by article in publication order to an empty StoryIndex (SQLite in
memory, the default window_neighbours query); the script prints pairwise precision, recall and F1 for copies
(pairs in one copy group) and for same story (pairs in one story) over that half's articles, and the time per
add (the embedding, which the engine computes anyway, is timed apart).

    python -m bench.studies.stories                # both halves, the module's weights, the sample alone
    python -m bench.studies.stories --fit  # fit the weights (and pick the join threshold) on half A, then measure
    python -m bench.studies.stories --corpus       # each half within the whole corpus (minus the other half), by date
    python -m bench.studies.stories --vector chunks   # the mean of the article's chunk vectors instead of title+lead
The vectors are cached in --cache (default /tmp/newsdesk-story-vectors.npz): the first run embeds the sample's
story texts (about 15 s on 2 cores), the first --corpus run the corpus's (some minutes), --vector chunks every
chunk of the sample (some minutes).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import sqlite3
import time
from datetime import date
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from index import stories
from index.stories import StoryIndex, StoryInput

JOIN_THRESHOLDS = (0.4, 0.5, 0.6, 0.7)  # tried on half A by --fit
SAMPLE = Path(__file__).resolve().parents[1] / "data" / "stories.jsonl"
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


class Vectors:
    """Story vectors, embedded on first use and cached on disk by kind and text."""

    def __init__(self, kind: str, cache: Path) -> None:
        self.kind, self.cache = kind, cache
        self._stored: dict[str, np.ndarray] = dict(np.load(cache)) if cache.exists() else {}
        self._model: Any = None
        self.embedded, self.seconds = 0, 0.0

    def __call__(self, index: StoryIndex, row: dict[str, Any]) -> np.ndarray:
        """The vector of a sample article about to be added to `index`."""
        if self.kind == "lead":
            text = index.story_text(row["title"], row["body"])
        elif self.kind == "title":
            text = stories.sig.headline(row["title"]) or row["body"][:200]
        else:
            text = row["url"]
        key = self.kind + ":" + hashlib.sha1(text.encode()).hexdigest()
        if key not in self._stored:
            started = time.perf_counter()
            self._stored[key] = self._chunk_mean(row) if self.kind == "chunks" else self._model_().embed([text])[0]
            self.embedded, self.seconds = self.embedded + 1, self.seconds + time.perf_counter() - started
        return self._stored[key]

    def prepare(self, texts: list[str]) -> None:
        """Embed in batches the texts not cached yet."""
        todo = sorted({t for t in texts if self.kind + ":" + hashlib.sha1(t.encode()).hexdigest() not in self._stored})
        if todo and self.kind == "lead":
            started = time.perf_counter()
            for text, vector in zip(todo, self._model_().embed(todo), strict=False):
                self._stored[self.kind + ":" + hashlib.sha1(text.encode()).hexdigest()] = vector
            self.embedded, self.seconds = self.embedded + len(todo), self.seconds + time.perf_counter() - started

    def save(self) -> None:
        """Write the cache back when something was embedded."""
        if self.embedded:
            arrays: dict[str, Any] = self._stored
            np.savez(self.cache, **arrays)
            print(
                f"embedded {self.embedded} texts ({self.kind}) in {self.seconds:.1f} s, "
                f"{1000 * self.seconds / self.embedded:.0f} ms each"
            )

    def _model_(self) -> Any:
        if self._model is None:
            from index.embedding import OnnxMiniLMEmbedding

            self._model = OnnxMiniLMEmbedding()
        return self._model

    def _chunk_mean(self, row: dict[str, Any]) -> np.ndarray:
        from index.articles import Article
        from index.chunking import chunk_article, embed_text, make_splitter

        article = Article(
            title=row["title"],
            body=row["body"],
            outlet=outlet_of(row["url"]),
            published=date.fromisoformat(row["published"]),
            url=row["url"],
        )
        texts = [embed_text(node) for node in chunk_article(article, make_splitter(200, 40), "bench").nodes]
        mean = self._model_().embed(texts).mean(axis=0)
        return mean / np.linalg.norm(mean)


def story_input(row: dict[str, Any], vector: np.ndarray) -> StoryInput:
    """The assigner's view of a sample article."""
    return StoryInput(
        article_id=row["url"],
        title=row["title"],
        body=row["body"],
        day=date.fromisoformat(row["published"]),
        outlet=outlet_of(row["url"]),
        vector=vector,
    )


def run(
    stream: list[dict[str, Any]], measured: set[str], vectors: Vectors, **params: Any
) -> tuple[dict[str, stories.Assignment], list[float]]:
    """Add the stream's articles one by one; the assignments of the measured ones and seconds per add."""
    index = StoryIndex(sqlite3.connect(":memory:"), **params)
    out, times = {}, []
    for row in stream:
        item = story_input(row, vectors(index, row))
        started = time.perf_counter()
        assignment = index.add(item)
        times.append(time.perf_counter() - started)
        if row["url"] in measured:
            out[row["url"]] = assignment
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


def report(
    name: str, rows: list[dict[str, Any]], assignments: dict[str, stories.Assignment], times: list[float]
) -> None:
    """Print the pairwise figures of one run."""
    gold_story = {r["url"]: r["story"] for r in rows}
    gold_copy = {r["url"]: r.get("copy_group") for r in rows}
    cp = pairwise(gold_copy, copy_groups(assignments))
    sp = pairwise(gold_story, {u: a.story_id for u, a in assignments.items()})
    ms = sorted(t * 1000 for t in times)
    tenth = max(1, len(times) // 10)
    first, last = (1000 * float(np.median(part)) for part in (times[:tenth], times[-tenth:]))
    print(
        f"{name:<7} articles {len(rows):>3} | copies P {cp[0]:.3f} R {cp[1]:.3f} F1 {cp[2]:.3f} ({cp[3]} pairs) | "
        f"same story P {sp[0]:.3f} R {sp[1]:.3f} F1 {sp[2]:.3f} ({sp[3]} pairs)\n"
        f"        {len(times)} adds: p50 {ms[len(ms) // 2]:.1f} ms, p95 {ms[int(len(ms) * 0.95)]:.1f} ms; "
        f"p50 of the first tenth {first:.1f} ms, of the last tenth {last:.1f} ms"
    )


def same_story_f1(rows: list[dict[str, Any]], assignments: dict[str, stories.Assignment]) -> float:
    """Pairwise same-story F1 of a run."""
    return pairwise({r["url"]: r["story"] for r in rows}, {u: a.story_id for u, a in assignments.items()})[2]


def training_pairs(
    stream: list[dict[str, Any]], gold: dict[str, str], vectors: Vectors
) -> tuple[np.ndarray, np.ndarray]:
    """Features and gold labels of every (labelled article, labelled candidate) pair the assigner scores."""
    index = StoryIndex(sqlite3.connect(":memory:"), join_probability=2.0, copy_containment=2.0)  # never joins
    xs, ys = [], []
    for row in stream:
        item = story_input(row, vectors(index, row))
        if row["url"] in gold:
            for pairs in index.member_features(item, index.signals(item)).values():
                for other, features in pairs:
                    if other.article_id in gold:
                        xs.append(features)
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


def corpus_stream(rows: list[dict[str, Any]], excluded: set[str]) -> list[dict[str, Any]]:
    """Every corpus article but the excluded ones, with the sample's labels where it has them, by date."""
    labelled = {r["url"]: r for r in rows}
    with gzip.open(CORPUS, "rt", encoding="utf-8") as f:
        stream = [labelled.get(r["url"], r) for r in map(json.loads, f) if r["url"] not in excluded]
    return sorted(stream, key=lambda r: (r["published"], r["url"]))


def expected_story_texts(stream: list[dict[str, Any]]) -> list[str]:
    """The story text each article will have when added in this order (StoryIndex.lead without the index),
    so that they can be embedded in batches beforehand."""
    seen: dict[int, int] = {}
    texts = []
    for row in stream:
        paragraphs = stories.sig.paragraphs(row["body"])
        keys = [stories.sig.paragraph_key(p) for p in paragraphs]
        lead = "\n".join(
            p for p, k in zip(paragraphs, keys, strict=False) if seen.get(k, 0) < stories.BOILERPLATE_ARTICLES
        )
        texts.append(stories.sig.headline(row["title"]) + "\n" + lead[: stories.STORY_TEXT_CHARS])
        for k in set(keys):
            seen[k] = seen.get(k, 0) + 1
    return texts


def _best_member() -> None:
    stories.story_score = max  # type: ignore[assignment]


def _unweighted_terms() -> None:
    stories.sig.idf = lambda articles, with_term: 1.0  # type: ignore[assignment]


def _no_boilerplate() -> None:
    stories.BOILERPLATE_ARTICLES = 10**9


ABLATIONS = {
    "best-member": _best_member,  # join the story of the single best-scoring article (single link)
    "unweighted-terms": _unweighted_terms,  # names and headline words all weigh 1 (no inverse document frequency)
    "no-boilerplate": _no_boilerplate,  # keep every paragraph in the lead
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--fit", action="store_true", help="fit the same-story weights on half A first")
    parser.add_argument("--vector", choices=["lead", "title", "chunks"], default="lead")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/newsdesk-story-vectors.npz"))
    parser.add_argument(
        "--corpus",
        action="store_true",
        help="add the whole corpus (minus the other half) in date order, as the engine would",
    )
    parser.add_argument("--shuffle", action="store_true", help="add in a random order instead of by date")
    parser.add_argument("--ablate", choices=sorted(ABLATIONS), help="measure the method without one of its parts")
    args = parser.parse_args()
    if args.ablate:
        ABLATIONS[args.ablate]()
    rows = load_sample()
    vectors = Vectors(args.vector, args.cache)
    halves = {h: [r for r in rows if r["half"] == h] for h in ("A", "B")}
    streams = {}
    for name, half in halves.items():
        other = {r["url"] for r in rows if r["half"] != name}
        stream = corpus_stream(rows, other) if args.corpus else list(half)
        if args.shuffle:
            stream = random.Random(15).sample(stream, len(stream))
        vectors.prepare(expected_story_texts(stream))
        streams[name] = stream
    params: dict[str, Any] = {}
    if args.fit:
        x, y = training_pairs(streams["A"], {r["url"]: r["story"] for r in halves["A"]}, vectors)
        w, b = fit_logistic(x, y)
        print(
            f"fitted on half A ({len(y)} candidate pairs, {int(y.sum())} same story): "
            f"weights {dict(zip(stories.FEATURES, np.round(w, 3).tolist(), strict=False))} bias {b:.3f}"
        )
        params = {"weights": tuple(w), "bias": b}
        scores = {}
        for threshold in JOIN_THRESHOLDS:
            assignments, _ = run(
                streams["A"], {r["url"] for r in halves["A"]}, vectors, **params, join_probability=threshold
            )
            scores[threshold] = same_story_f1(halves["A"], assignments)
        params["join_probability"] = max(scores, key=lambda t: (scores[t], -abs(t - 0.5)))
        print(
            "same-story F1 on half A by join threshold: "
            + ", ".join(f"{t}: {f:.3f}" for t, f in scores.items())
            + f"; chosen {params['join_probability']}"
        )
    for name, half in halves.items():
        assignments, times = run(streams[name], {r["url"] for r in half}, vectors, **params)
        report(f"half {name}", half, assignments, times)
    vectors.save()


if __name__ == "__main__":
    main()
