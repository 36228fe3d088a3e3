"""Page clutter on the benchmark corpus: the labelled sample scored, quotable clutter counted before and
after cleaning, one pass against two, and the chunks a cleaned re-index would change.

    python -m bench.studies.clutter draw                 # the sample's lines again (seeded), without labels
    python -m bench.studies.clutter score                # precision/recall on bench/data/clutter.jsonl
    python -m bench.studies.clutter corpus [--removed N] # corpus counts; N random removed lines to check by hand
    python -m bench.studies.clutter sqlite               # the line_seen table for the corpus: size and time per article
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from index.articles import url_article_id
from index.clutter import (
    LINE_STATS_SCHEMA,
    MemoryLineStats,
    SqliteLineStats,
    body_fingerprints,
    clean,
    kept_text,
    line_reasons,
    outlet_key,
)

if TYPE_CHECKING:
    from llama_index.core.node_parser import SentenceSplitter

CORPUS = Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz")
SAMPLE = Path(__file__).parents[1] / "data" / "clutter.jsonl"
SEED, SAMPLE_SIZE = 14, 600
ISSUE_KINDS = ("credit", "player", "promo", "navigation", "share", "cookie")  # the kinds issue 14 names
CHUNK_SIZE, CHUNK_OVERLAP = 200, 40  # index/settings.py defaults
EMBED_RATE = 25.0  # chunks per second on 2 cores (the lead's figure)
MIN_WORDS = 10  # index/articles.py: fewer words than this is no article text


@dataclass
class Doc:
    """One corpus article as the cleaner sees it."""

    id: str
    url: str
    outlet: str | None
    published: str
    title: str
    body: str
    lines: list[str] = field(default_factory=list)


def load_corpus(path: Path = CORPUS) -> list[Doc]:
    """Every corpus record with a body, in file order."""
    docs = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for raw in handle:
            rec = json.loads(raw)
            if (rec.get("body") or "").strip():
                docs.append(
                    Doc(
                        url_article_id(rec["url"]),
                        rec["url"],
                        outlet_key(rec["url"]),
                        rec.get("published") or "",
                        rec.get("title") or "",
                        rec["body"],
                        rec["body"].split("\n"),
                    )
                )
    return docs


def draw(docs: list[Doc], seed: int = SEED, size: int = SAMPLE_SIZE) -> list[dict]:
    """The sample: `size` non-empty lines drawn uniformly (seeded) from all bodies, in corpus order."""
    units = [(d, i) for d, doc in enumerate(docs) for i, line in enumerate(doc.lines) if line.strip()]
    picked = sorted(random.Random(seed).sample(units, size))
    return [
        {"id": n, "url": docs[d].url, "line": i, "text": docs[d].lines[i].strip()} for n, (d, i) in enumerate(picked)
    ]


def two_pass_stats(docs: list[Doc]) -> MemoryLineStats:
    """Counts over the whole corpus (bulk import: count everything, then clean)."""
    stats = MemoryLineStats()
    for doc in docs:
        if doc.outlet:
            stats.record(doc.outlet, doc.id, body_fingerprints(doc.body))
    return stats


def one_pass(docs: list[Doc]) -> tuple[dict[str, list[str | None]], dict[str, set[str]]]:
    """Articles arriving one by one in publication order, each cleaned with the counts of those before it;
    returns each article's line reasons, and for each article the later ones whose arrival made one of its
    lines cross the threshold (the re-cleans the engine would do)."""
    stats = MemoryLineStats()
    reasons: dict[str, list[str | None]] = {}
    reclean: dict[str, set[str]] = defaultdict(set)
    for doc in sorted(docs, key=lambda d: d.published):
        reasons[doc.id] = line_reasons(doc.body, doc.outlet, stats, doc.id)
        if doc.outlet:
            crossed = stats.record(doc.outlet, doc.id, body_fingerprints(doc.body))
            if crossed:
                for other in stats.articles_with(doc.outlet, crossed) - {doc.id}:
                    reclean[other].add(doc.id)
    return reasons, reclean


def quotable_counts(text: str) -> int:
    """Sentences of a line the extractive answerer could quote (passage_sentences' rule: 20+ characters
    with letters, white space normalised), split as at indexing time."""
    from index.chunking import sentence_spans

    count = 0
    for start, end in sentence_spans(text):
        sentence = " ".join(text[start:end].split())
        count += len(sentence) >= 20 and any(ch.isalpha() for ch in sentence)
    return count


# --- score: the labelled sample ----------------------------------------------------------------------


def score(docs: list[Doc]) -> dict:
    """Precision and recall of clutter detection on the labelled sample, two-pass and one-pass."""
    by_url = {d.url: d for d in docs}
    sample = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines() if line.strip()]
    stats = two_pass_stats(docs)
    one, _ = one_pass(docs)
    out: dict = {"lines": len(sample), "labels": dict(Counter(s["label"] for s in sample))}
    for name, reason_of in (
        ("two_pass", lambda doc, i: line_reasons(doc.body, doc.outlet, stats, doc.id)[i]),
        ("one_pass", lambda doc, i: one[doc.id][i]),
    ):
        rows = []
        for s in sample:
            doc = by_url[s["url"]]
            assert doc.lines[s["line"]].strip() == s["text"], s["id"]
            rows.append((s, reason_of(doc, s["line"]), quotable_counts(s["text"])))
        out[name] = _confusion(rows)
    return out


def _confusion(rows: list[tuple[dict, str | None, int]]) -> dict:
    def is_clutter(reason: str | None) -> bool:
        return reason not in (None, "correction")

    res: dict = {}
    for scope, keep in (("all clutter", lambda s: True), ("issue kinds", lambda s: s["kind"] in ISSUE_KINDS)):
        positives = [r for r in rows if r[0]["label"] == "clutter" and keep(r[0])]
        predicted = [r for r in rows if is_clutter(r[1]) and (r[0]["label"] != "clutter" or keep(r[0]))]
        tp = sum(r[0]["label"] == "clutter" and keep(r[0]) for r in predicted)
        res[scope] = {
            "labelled": len(positives),
            "flagged": len(predicted),
            "true": tp,
            "precision": round(tp / len(predicted), 3) if predicted else None,
            "recall": round(tp / len(positives), 3) if positives else None,
        }
    res["recall by kind"] = {
        k: f"{sum(is_clutter(r[1]) for r in rows if r[0]['kind'] == k)}/{sum(r[0]['kind'] == k for r in rows)}"
        for k in sorted({r[0]["kind"] for r in rows if r[0]["kind"]})
    }
    res["flagged content"] = [
        (r[0]["id"], r[1], r[0]["text"][:80]) for r in rows if is_clutter(r[1]) and r[0]["label"] != "clutter"
    ]
    res["corrections found"] = (
        f"{sum(r[1] == 'correction' for r in rows if r[0]['label'] == 'correction')}/"
        f"{sum(r[0]['label'] == 'correction' for r in rows)}"
    )
    res["correction false alarms"] = sum(r[1] == "correction" and r[0]["label"] != "correction" for r in rows)
    quotable: Counter[tuple[str, str]] = Counter()
    for s, reason, q in rows:
        quotable[(s["label"], "removed" if reason else "kept")] += q
    total = sum(quotable.values())
    kept = sum(n for (label, fate), n in quotable.items() if fate == "kept")
    clutter = quotable[("clutter", "kept")] + quotable[("clutter", "removed")]
    res["quotable sentences"] = {
        "in sample": total,
        "clutter before": clutter,
        "clutter after": quotable[("clutter", "kept")],
        "content before": quotable[("content", "kept")] + quotable[("content", "removed")],
        "content removed": quotable[("content", "removed")],
        "clutter share before (95% CI)": _share(clutter, total),
        "clutter share after (95% CI)": _share(quotable[("clutter", "kept")], kept),
    }
    return res


def _share(k: int, n: int) -> str:
    """k/n as a percentage with its Wilson 95% interval (sentences are counted as independent draws)."""
    if not n:
        return "n/a"
    p, z = k / n, 1.96
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / (1 + z * z / n)
    return f"{100 * p:.1f}% ({100 * (centre - half):.1f}–{100 * (centre + half):.1f}%)"


# --- corpus: counts over every article ---------------------------------------------------------------


def corpus(docs: list[Doc], show_removed: int = 0) -> dict:
    """Quotable sentences removed by cue, articles emptied, one pass against two, chunks changed."""
    started = time.time()
    stats = two_pass_stats(docs)
    quotable_total = 0
    removed_q: Counter[str] = Counter()
    removed_lines: Counter[str] = Counter()
    corrections = 0
    emptied = []
    changed: list[tuple[Doc, str]] = []
    removed_examples: list[tuple[str, str, str]] = []
    reasons_two: dict[str, list[str | None]] = {}
    notices: Counter[str] = Counter()
    for doc in docs:
        reasons = line_reasons(doc.body, doc.outlet, stats, doc.id)
        reasons_two[doc.id] = reasons
        for line, why in zip(doc.lines, reasons, strict=False):
            if not line.strip():
                continue
            q = quotable_counts(line)
            quotable_total += q
            if why:
                removed_q[why] += q
                removed_lines[why] += 1
                corrections += why == "correction"
                notices[doc.id] += why == "correction"
                if why != "correction":
                    removed_examples.append((why, doc.url, line.strip()))
        cleaned = clean(doc.body, doc.outlet, stats, doc.id)
        if cleaned.body != doc.body.strip():
            changed.append((doc, cleaned.body))
        if len(cleaned.body.split()) < MIN_WORDS:
            emptied.append(doc.url)
    one, reclean = one_pass(docs)
    missed: Counter[str] = Counter()
    for doc in docs:
        for two_why, one_why in zip(reasons_two[doc.id], one[doc.id], strict=False):
            if two_why and not one_why:
                missed[two_why] += 1
    by_id = {doc.id: doc for doc in docs}
    recleaned = [(kept_text(by_id[i].body, one[i]), kept_text(by_id[i].body, reasons_two[i])) for i in reclean]
    out = {
        "articles": len(docs),
        "quotable sentences": quotable_total,
        "quotable sentences removed (by cue)": dict(removed_q),
        "lines removed (by cue)": dict(removed_lines),
        "correction notices set apart": corrections,
        "articles with correction notices (with more than 3: corrections listing pages)": (
            f"{sum(n > 0 for n in notices.values())} ({sum(n > 3 for n in notices.values())})"
        ),
        "articles changed": len(changed),
        f"articles left with < {MIN_WORDS} words": len(emptied),
        "one pass (publication order, no re-clean): lines the two-pass run removes but it keeps": dict(missed),
        "one pass: articles a re-clean policy would clean again": len(reclean),
        "one pass: re-clean events (article, later arrival)": sum(map(len, reclean.values())),
        "one pass: chunks of re-cleaned articles (before, new texts to embed)": _rechunk(recleaned),
        "chunks": chunk_changes(changed, docs),
        "seconds": round(time.time() - started, 1),
    }
    if show_removed:
        rng = random.Random(SEED)
        out["removed sample"] = [
            f"[{why}] {text[:160]}"
            for why, _, text in rng.sample(removed_examples, min(show_removed, len(removed_examples)))
        ]
    return out


def _rechunk(pairs: list[tuple[str, str]]) -> tuple[int, int]:
    splitter = _splitter()
    before = new = 0
    for old_body, new_body in pairs:
        old = _chunks(splitter, old_body)
        before += len(old)
        new += len(set(_chunks(splitter, new_body)) - set(old))
    return before, new


def _splitter() -> SentenceSplitter:
    from index.chunking import make_splitter

    return make_splitter(CHUNK_SIZE, CHUNK_OVERLAP)


def _chunks(splitter: SentenceSplitter, text: str) -> list[str]:
    from llama_index.core import Document

    return [n.get_content() for n in splitter.get_nodes_from_documents([Document(text=text)])] if text.strip() else []


def chunk_changes(changed: list[tuple[Doc, str]], docs: list[Doc]) -> dict:
    """Chunks before and after cleaning (default splitter settings); a chunk whose text is new must be
    embedded, the others come from the embedding cache (keyed by model, title and text)."""
    splitter = _splitter()
    cleaned = {doc.id: body for doc, body in changed}
    total = before = after = new = 0
    for doc in docs:
        old = _chunks(splitter, doc.body)
        total += len(old)
        if doc.id in cleaned:
            fresh = _chunks(splitter, cleaned[doc.id])
            before += len(old)
            after += len(fresh)
            new += len(set(fresh) - set(old))
    return {
        "corpus chunks": total,
        "in changed articles before": before,
        "after": after,
        "new texts to embed": new,
        "embedding minutes at 25 chunks/s": round(new / EMBED_RATE / 60, 1),
    }


def sqlite_cost(docs: list[Doc]) -> dict:
    """Ingest the corpus one article at a time through SqliteLineStats (clean, then record, one transaction
    per article, as the engine would): rows, file size, time per article."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lines.sqlite3"
        conn = sqlite3.connect(path)
        conn.executescript(LINE_STATS_SCHEMA)
        stats = SqliteLineStats(conn)
        started = time.perf_counter()
        for doc in sorted(docs, key=lambda d: d.published):
            with conn:
                clean(doc.body, doc.outlet, stats, doc.id)
                if doc.outlet:
                    stats.record(doc.outlet, doc.id, body_fingerprints(doc.body))
        seconds = time.perf_counter() - started
        rows = conn.execute("SELECT COUNT(*) FROM line_seen").fetchone()[0]
        conn.execute("VACUUM")
        conn.close()
        size = path.stat().st_size
    return {
        "articles": len(docs),
        "rows": rows,
        "rows per article": round(rows / len(docs), 1),
        "file MB": round(size / 1e6, 1),
        "bytes per article": round(size / len(docs)),
        "ms per article (clean + record)": round(1000 * seconds / len(docs), 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["draw", "score", "corpus", "sqlite"])
    parser.add_argument("--removed", type=int, default=0, help="show this many random removed lines")
    args = parser.parse_args(argv)
    docs = load_corpus()
    if args.command == "draw":
        for row in draw(docs):
            print(json.dumps(row, ensure_ascii=False))
        return 0
    commands = {
        "score": lambda: score(docs),
        "corpus": lambda: corpus(docs, args.removed),
        "sqlite": lambda: sqlite_cost(docs),
    }
    result = commands[args.command]()
    json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
