"""Draw the story-labelling sample from the benchmark corpus (bench/data/STORIES.md says how it was used).

Candidate pairs come from four independent sources, so that the sample does not favour any one method:
  title   two articles at most 7 days apart whose titles share at least two content words;
  embed   at most 7 days apart, cosine >= 0.55 between title+lead embeddings (all-MiniLM-L6-v2);
  shingle any dates, MinHash/LSH over 5-word body shingles, estimated Jaccard >= 0.2; pairs whose bodies are
          one identical text shared by 3 or more articles (75 pages whose extracted body is a registration form
          or an ad-feedback widget) would be most of this source, so at most BOILERPLATE_PAIRS of them are drawn;
  random  two articles drawn at random at most 7 days apart;
  near    near-duplicate candidates by two means, any dates: shingle Jaccard >= 0.5 or title+lead cosine >= 0.9
          (the shared-boilerplate pairs left out); NEAR_PAIRS of them.
PAIRS_PER_SOURCE pairs are drawn at random (fixed seed) from each source; the sample is every article in a drawn
pair. The script prints the sample grouped for reading (articles linked by any weak signal, by date), which is
what the labels in bench/data/stories.jsonl were written from.

    python -m bench.studies.stories_sample --embeddings /tmp/emb.npy > /tmp/review.txt
(--embeddings caches the 5,000 title+lead vectors: about 3 minutes on 2 cores the first time.)
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from index.story_signals import headline

CORPUS = Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz")
PAIRS_PER_SOURCE = 45
NEAR_PAIRS = 25  # near-duplicate candidates, so that copies are not only the few the other sources meet
BOILERPLATE_PAIRS = 4  # at most this many shingle pairs whose two bodies are one text shared by 3+ articles
WINDOW_DAYS = 7
SEED = 15
_STOP = set(
    """a an the of in on and or to for with at by from as is are was were be been it its this that these those
what why how who when where which will would can could should may might not no new news after over into about than
more most says say said your you we our their his her he she they them us up out off just like get gets all one two
cnn usa today week opinion live updates latest here""".split()
)


def load_corpus(path: Path = CORPUS) -> list[dict[str, Any]]:
    """The benchmark articles, in file order."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def title_words(title: str) -> set[str]:
    """Content words of a headline."""
    return {w for w in re.findall(r"[a-z0-9']+", headline(title).lower()) if len(w) > 2 and w not in _STOP}


def lead_text(row: dict[str, Any], chars: int = 600) -> str:
    """Title and the body's first characters: what the sampling embeddings were computed from."""
    return (row["title"] or "") + "\n" + row["body"][:chars]


def title_pairs(rows: list[dict[str, Any]], days: list[int]) -> set[tuple[int, int]]:
    """Pairs at most WINDOW_DAYS apart sharing at least two title content words."""
    words = [title_words(r["title"]) for r in rows]
    order = sorted(range(len(rows)), key=lambda i: days[i])
    out = set()
    for n, i in enumerate(order):
        for j in order[n + 1 :]:
            if days[j] - days[i] > WINDOW_DAYS:
                break
            if len(words[i] & words[j]) >= 2:
                out.add((min(i, j), max(i, j)))
    return out


def embed_pairs(
    vectors: np.ndarray, days: list[int], threshold: float = 0.55, window: int = WINDOW_DAYS
) -> set[tuple[int, int]]:
    """Pairs at most `window` days apart with title+lead cosine at or above threshold."""
    sims = vectors @ vectors.T
    d = np.array(days)
    close = np.abs(d[:, None] - d[None, :]) <= window
    i, j = np.nonzero(np.triu((sims >= threshold) & close, k=1))
    return set(zip(i.tolist(), j.tolist(), strict=False))


def shingle_pairs(rows: list[dict[str, Any]], threshold: float = 0.2) -> dict[tuple[int, int], float]:
    """Pairs whose bodies share 5-word shingles (MinHash LSH, any dates), with their estimated Jaccard."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = []
    for i, r in enumerate(rows):
        w = re.findall(r"\w+", r["body"].lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(w[k : k + 5]).encode() for k in range(max(1, len(w) - 4))])
        hashes.append(m)
        lsh.insert(i, m)
    out = {}
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i and m.jaccard(hashes[j]) >= threshold:
                out[(min(i, j), max(i, j))] = m.jaccard(hashes[j])
    return out


def random_pairs(days: list[int], n: int, rng: random.Random) -> set[tuple[int, int]]:
    """n random pairs at most WINDOW_DAYS apart."""
    out: set[tuple[int, int]] = set()
    while len(out) < n:
        i, j = rng.randrange(len(days)), rng.randrange(len(days))
        if i != j and abs(days[i] - days[j]) <= WINDOW_DAYS:
            out.add((min(i, j), max(i, j)))
    return out


def draw(rows: list[dict[str, Any]], vectors: np.ndarray) -> dict[int, set[str]]:
    """Sample article index -> the sources whose drawn pairs brought it in."""
    rng = random.Random(SEED)
    days = [date.fromisoformat(r["published"]).toordinal() for r in rows]
    jaccards = shingle_pairs(rows)
    bodies = Counter(r["body"] for r in rows)
    shared = {(i, j) for i, j in jaccards if rows[i]["body"] == rows[j]["body"] and bodies[rows[i]["body"]] >= 3}
    sources = {
        "title": title_pairs(rows, days),
        "embed": embed_pairs(vectors, days),
        "shingle": set(jaccards),
        "random": random_pairs(days, PAIRS_PER_SOURCE, rng),
        "near": ({p for p, j in jaccards.items() if j >= 0.5} | embed_pairs(vectors, days, threshold=0.9, window=10**6))
        - shared,
    }
    picked: dict[int, set[str]] = {}
    for name, pairs in sources.items():
        if name == "shingle":
            chosen = rng.sample(sorted(shared), BOILERPLATE_PAIRS)
            rest = sorted(pairs - shared)
            chosen += rng.sample(rest, min(PAIRS_PER_SOURCE - BOILERPLATE_PAIRS, len(rest)))
        else:
            size = NEAR_PAIRS if name == "near" else PAIRS_PER_SOURCE
            chosen = rng.sample(sorted(pairs), min(size, len(pairs)))
        print(f"# {name}: {len(pairs)} candidate pairs, {len(chosen)} drawn")
        for i, j in chosen:
            picked.setdefault(i, set()).add(name)
            picked.setdefault(j, set()).add(name)
    return picked


def review_groups(rows: list[dict[str, Any]], vectors: np.ndarray, ids: list[int]) -> list[list[int]]:
    """Sample articles linked by any weak signal (14 days and cosine >= 0.4 or a shared title word), for reading."""
    parent = {i: i for i in ids}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a in ids:
        for b in ids:
            if a < b:
                gap = abs(
                    date.fromisoformat(rows[a]["published"]).toordinal()
                    - date.fromisoformat(rows[b]["published"]).toordinal()
                )
                sim = float(vectors[a] @ vectors[b])
                if gap <= 14 and (sim >= 0.4 or title_words(rows[a]["title"]) & title_words(rows[b]["title"])):
                    parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for i in ids:
        groups.setdefault(find(i), []).append(i)
    return sorted(
        (sorted(g, key=lambda i: rows[i]["published"]) for g in groups.values()), key=lambda g: rows[g[0]]["published"]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--embeddings", type=Path, help="cache file for the corpus title+lead vectors (.npy)")
    args = parser.parse_args()
    rows = load_corpus()
    if args.embeddings and args.embeddings.exists():
        vectors = np.load(args.embeddings)
    else:
        from index.embedding import OnnxMiniLMEmbedding

        vectors = OnnxMiniLMEmbedding().embed([lead_text(r) for r in rows])
        if args.embeddings:
            np.save(args.embeddings, vectors)
    picked = draw(rows, vectors)
    print(f"# sample: {len(picked)} articles")
    for group in review_groups(rows, vectors, sorted(picked)):
        print("=" * 100)
        for i in group:
            r = rows[i]
            lead = " ".join(r["body"][:400].split())
            print(
                f"[{i}] {r['published']} {'/'.join(sorted(picked[i]))} {r['url']}\n    T: {headline(r['title'])}"
                f"\n    L: {lead}"
            )


if __name__ == "__main__":
    main()
