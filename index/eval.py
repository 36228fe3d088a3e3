"""The evaluation harness: `newsdesk eval` (quality, side by side with the starter pipeline) and `newsdesk bench`."""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Iterator
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from .articles import Article
    from .engine import Engine
    from .settings import Settings

log = logging.getLogger(__name__)


# corpus and questions -----------------------------------------------------------------------------
def _open_text(path: Path):
    path = Path(path)
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def iter_jsonl(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSONL file (gzip when it ends in .gz), blank lines skipped."""
    with _open_text(path) as handle:
        for line in handle:
            if line.strip():
                yield json.loads(line)


def outlet_of(url: str | None) -> str | None:
    """The site an article comes from, from its URL ('cnn.com')."""
    if not url:
        return None
    host = urlsplit(url).netloc.lower()
    return host[4:] if host.startswith("www.") else host or None


def article_from_record(record: dict) -> "Article":
    """A corpus record (url, title, published, authors, body) as an Article."""
    from .articles import Article

    published = record.get("published")
    return Article(
        title=(record.get("title") or "").strip(), body=record["body"], outlet=outlet_of(record.get("url")),
        published=date.fromisoformat(published) if published else None, url=record.get("url"),
        authors=tuple(record.get("authors") or ()),
    )


def load_corpus(path: Path) -> list["Article"]:
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
    return [Question(id=str(r.get("id", i)), asked_on=date.fromisoformat(r["asked_on"]), question=r["question"],
                     answers=tuple(r.get("answers") or ()), gold_url=r.get("gold_url"))
            for i, r in enumerate(iter_jsonl(path))]


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


def make_subset(corpus: Path, questions: Path, out: Path, *, days: int = 10, extra: int = 200,
                seed: int = 0) -> Path:
    """A smaller corpus for quick runs: the questions' source articles, every article published within
    ±days of a question's date (the hard negatives: same week, same news), and `extra` random others.

    Deterministic for the same inputs; articles keep their order in the corpus file.
    """
    import random

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


def warm_cache_from_siblings(data_dir: Path) -> int:
    """Copy cached embeddings from the other eval-* data directories next to this one (same text, same
    model, same key), so a corpus that shares articles with one built before costs no new embedding."""
    import sqlite3

    target = Path(data_dir) / "newsdesk.sqlite3"
    if not target.exists():
        return 0
    db = sqlite3.connect(target, isolation_level=None)
    copied = 0
    try:
        before = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0]
        for sibling in sorted(Path(data_dir).parent.glob("eval-*/newsdesk.sqlite3")):
            if sibling.resolve() == target.resolve():
                continue
            db.execute("ATTACH DATABASE ? AS other", (str(sibling),))
            try:
                db.execute("INSERT OR IGNORE INTO embeddings(key, vector) SELECT key, vector FROM other.embeddings")
            except sqlite3.Error as exc:
                log.warning("Could not read cached embeddings from %s: %s", sibling, exc)
            finally:
                db.execute("DETACH DATABASE other")
        copied = db.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0] - before
    finally:
        db.close()
    return copied


def build_engine(corpus: Path, *, root: Path | None = None, settings: "Settings | None" = None,
                 embed_model=None, progress=None) -> tuple["Engine", dict]:
    """An engine holding the corpus (reusing the one built before from the same file); returns build figures."""
    from .engine import Engine
    from .settings import Settings

    base = settings or Settings.from_env()
    data_dir = eval_data_dir(root or base.data_dir, corpus)
    settings = Settings(**{**base.__dict__, "data_dir": data_dir, "llm_base_url": None})
    engine = Engine(settings, embed_model=embed_model)
    warmed = warm_cache_from_siblings(data_dir)
    started = time.perf_counter()
    articles = load_corpus(corpus)
    loaded = time.perf_counter()
    results = engine.add_articles(articles, progress=progress)
    if engine.needs_rebuild():  # built with another chunking or model: re-index (unchanged chunks from the cache)
        engine.rebuild(progress)
    seconds = time.perf_counter() - loaded
    counts = engine.status()
    figures = {"articles": counts.articles, "chunks": counts.chunks, "data_dir": str(data_dir),
               "added": sum(r.status != "unchanged" for r in results), "cache_warmed": warmed, "load_seconds": loaded - started,
               "index_seconds": seconds}
    return engine, figures


# scoring ------------------------------------------------------------------------------------------
ANSWER_STOP_WORDS = frozenset({"a", "an", "the", "of", "in", "on", "and"})
SHOWN_CHARS = 1000  # what a reader sees of an answer (about a Discord message)


def answer_words(text: str) -> list[str]:
    """The README's normalisation: NFKC, lower case, every character that is not a letter, digit, underscore
    or white space made a space, split on white space, stop words dropped."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text).lower()
    text = "".join(ch if ch.isalnum() or ch == "_" or ch.isspace() else " " for ch in text)
    return [w for w in text.split() if w not in ANSWER_STOP_WORDS]


def answer_correct(gold_answers: Iterable[str], shown: str) -> bool:
    """True when, for one of the gold answers, at least two thirds of its words appear in the first
    SHOWN_CHARS characters of the shown answer. (A gold answer made only of stop words is compared
    word for word without dropping them.)"""
    seen = set(answer_words(shown[:SHOWN_CHARS]))
    for gold in gold_answers:
        words = answer_words(gold)
        if not words:
            import unicodedata

            raw = unicodedata.normalize("NFKC", gold).lower()
            words = "".join(ch if ch.isalnum() or ch == "_" or ch.isspace() else " " for ch in raw).split()
            seen_all = set("".join(ch if ch.isalnum() or ch == "_" or ch.isspace() else " "
                                   for ch in unicodedata.normalize("NFKC", shown[:SHOWN_CHARS]).lower()).split())
            if words and sum(w in seen_all for w in words) * 3 >= 2 * len(words):
                return True
            continue
        if sum(w in seen for w in words) * 3 >= 2 * len(words):
            return True
    return False


def shown_text(answer) -> str:
    """An answer as a reader sees it: the cited sentences, then each citation's quoted passage."""
    parts = [answer.text]
    for citation in answer.citations:
        parts.append(f"[{citation.number}] {citation.quote}")
    return "\n".join(parts)


def citations_hold(answer) -> bool:
    """True when every citation number of every sentence names a citation whose quoted passage contains
    the sentence."""
    quotes = {c.number: " ".join(c.quote.split()) for c in answer.citations}
    return all(n in quotes and " ".join(s.text.split()) in quotes[n] for s in answer.sentences for n in s.citations)


def distinct(ids: Iterable[str]) -> list[str]:
    """Ids in first-seen order without repeats."""
    seen: set[str] = set()
    return [i for i in ids if not (i in seen or seen.add(i))]


def gold_rank(ranked_ids: Iterable[str], gold_id: str | None) -> int | None:
    """1-based rank of the gold article among the distinct articles in rank order, or None."""
    for rank, article_id in enumerate(distinct(ranked_ids), 1):
        if article_id == gold_id:
            return rank
    return None


def hits_at(ranks: list[int | None], k: int) -> float:
    """Share of questions whose gold article is among the first k."""
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def mrr_at(ranks: list[int | None], k: int = 10) -> float:
    """Mean of 1/rank of the gold article within the first k (0 when not there)."""
    return sum(1.0 / r for r in ranks if r is not None and r <= k) / len(ranks) if ranks else 0.0


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear interpolation."""
    if not values:
        return 0.0
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def summarise(rows: list[dict]) -> dict:
    """The headline figures of per-question rows (rank, correct, covered, latency_ms)."""
    ranks = [r["rank"] for r in rows]
    latencies = [r["latency_ms"] for r in rows]
    n = len(rows)
    return {
        "questions": n,
        "hits_at_1": hits_at(ranks, 1), "hits_at_5": hits_at(ranks, 5), "hits_at_10": hits_at(ranks, 10),
        "mrr_at_10": mrr_at(ranks, 10),
        "answer_accuracy": sum(r["correct"] for r in rows) / n if n else 0.0,
        "not_covered_rate": sum(not r["covered"] for r in rows) / n if n else 0.0,
        "latency_ms_p50": percentile(latencies, 50), "latency_ms_p95": percentile(latencies, 95),
    }


# running ------------------------------------------------------------------------------------------
RANK_DEPTH = 50  # passages retrieved to rank the articles


def article_id_of(url: str | None) -> str | None:
    """The engine's id of the article at a URL."""
    if not url:
        return None
    from .articles import url_article_id

    return url_article_id(url)


def evaluate_engine(engine: "Engine", questions: list[Question], *, progress=None, answerer=None) -> list[dict]:
    """Ask every question as of its date: the gold article's rank, the answer's correctness, the latency
    (with `answerer` instead of the engine's own when given)."""
    rows = []
    for done, q in enumerate(questions, 1):
        gold = article_id_of(q.gold_url)
        retrieval = engine.retrieve(q.question, as_of=q.asked_on, top_k=RANK_DEPTH)
        rank = gold_rank([p.article_id for p in retrieval.passages], gold)
        started = time.perf_counter()
        answer = engine.ask(q.question, as_of=q.asked_on, answerer=answerer)
        latency = (time.perf_counter() - started) * 1000
        shown = shown_text(answer)
        rows.append({"id": q.id, "question": q.question, "answers": list(q.answers), "rank": rank,
                     "correct": answer_correct(q.answers, shown), "covered": answer.covered,
                     "latency_ms": latency, "shown": shown[:SHOWN_CHARS],
                     "cited_gold": any(c.passage.article_id == gold for c in answer.citations),
                     "answerer": answer.answerer,
                     "citations_ok": citations_hold(answer)})
        if progress:
            progress(done, len(questions))
    return rows


def evaluate_baseline(pipeline, questions: list[Question], *, progress=None) -> list[dict]:
    """The starter pipeline on the same questions (no dates: it cannot use them)."""
    rows = []
    for done, q in enumerate(questions, 1):
        gold = article_id_of(q.gold_url)
        started = time.perf_counter()
        hits = pipeline.query(q.question)
        latency = (time.perf_counter() - started) * 1000
        rank = gold_rank([article_id_of(h.url) for h in hits], gold)
        shown = hits[0].text[:SHOWN_CHARS] if hits else ""
        rows.append({"id": q.id, "question": q.question, "answers": list(q.answers), "rank": rank,
                     "correct": answer_correct(q.answers, shown), "covered": bool(hits),
                     "latency_ms": latency, "shown": shown})
        if progress:
            progress(done, len(questions))
    return rows


COLUMNS = [("hits_at_1", "Hits@1", "{:.3f}"), ("hits_at_5", "Hits@5", "{:.3f}"), ("hits_at_10", "Hits@10", "{:.3f}"),
           ("mrr_at_10", "MRR@10", "{:.3f}"), ("answer_accuracy", "answer", "{:.3f}"),
           ("not_covered_rate", "not covered", "{:.3f}"), ("latency_ms_p50", "p50 ms", "{:.0f}"),
           ("latency_ms_p95", "p95 ms", "{:.0f}")]


def format_table(rows: dict[str, dict]) -> str:
    """A Markdown table of summaries by pipeline name."""
    head = "| pipeline | " + " | ".join(label for _, label, _ in COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 1) + "|"]
    for name, summary in rows.items():
        cells = [fmt.format(summary[key]) if key in summary else "—" for key, _, fmt in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_eval(corpus: Path, questions_file: Path, *, report: Path | None = None, limit: int | None = None,
             llm: bool = False, baseline: bool = True, root: Path | None = None, out=sys.stdout) -> dict:
    """Build (or reuse) the index and the starter pipeline for a corpus, score both; returns the report."""
    from .embedding import load_embed_model
    from .settings import Settings

    base = Settings.from_env()
    if llm and not base.llm_enabled:
        from .errors import NewsdeskError

        raise NewsdeskError("--llm needs an LLM endpoint: set LLM_BASE_URL and LLM_MODEL (see .env.example).")
    root = Path(root or base.data_dir)
    questions = load_questions(questions_file)[: limit or None]
    embed = load_embed_model(base.embed_model, base.embed_batch_size)
    status = _Status(out)
    engine, build = build_engine(corpus, root=root, settings=base, embed_model=embed, progress=status("indexing"))
    llm_rows: list[dict] = []
    try:
        rows = evaluate_engine(engine, questions, progress=status("asking"))
        if llm:
            from .engine import build_answerer

            llm_rows = evaluate_engine(engine, questions, progress=status("asking the LLM"),
                                       answerer=build_answerer(base, embed))
    finally:
        engine.close()

    def scored(found: list[dict], answerer: str) -> dict:
        count = max(1, len(found))
        figures = {**summarise(found), "citations_ok_rate": sum(r["citations_ok"] for r in found) / count,
                   "answerer": answerer}
        if answerer == "llm":  # answers the LLM answerer had to leave to the extractive one
            figures["fallback_rate"] = sum(not r["answerer"].startswith("llm") for r in found) / count
        return figures

    # With --llm the top-level figures are the LLM answerer's and the extractive ones sit beside them.
    result = {**scored(llm_rows or rows, "llm" if llm else "extractive"), "corpus": str(corpus),
              "questions_file": str(questions_file), "build": build}
    table = {"newsdesk": result}
    if llm:
        result["extractive"] = scored(rows, "extractive")
        table = {"newsdesk, LLM answers": result, "newsdesk, extractive answers": result["extractive"]}
    if baseline:
        from .baseline import StarterPipeline

        pipeline = StarterPipeline(Path(build["data_dir"]), embed)
        result["baseline_build"] = pipeline.build(corpus, progress=status("baseline indexing"))
        base_rows = evaluate_baseline(pipeline, questions, progress=status("baseline asking"))
        result["baseline"] = summarise(base_rows)
        table["starter pipeline (baseline)"] = result["baseline"]
    else:
        base_rows = []
    print(format_table(table), file=out)
    print(f"{len(questions)} questions, {build['articles']} articles / {build['chunks']} chunks "
          f"({build['data_dir']}); latency = whole ask (ours) / retrieval only (baseline)", file=out)
    if report:
        full = {**result, "per_question": llm_rows or rows, "baseline_per_question": base_rows}
        if llm:
            full["extractive_per_question"] = rows
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(json.dumps(full, indent=2, ensure_ascii=False, default=str))
    return result


class _Status:
    """Progress lines on stderr."""

    def __init__(self, out) -> None:
        self.stream = sys.stderr

    def __call__(self, label: str):
        last = [-1]

        def report(done: int, total: int) -> None:
            step = max(1, total // 10)
            if done == total or done // step != last[0]:
                last[0] = done // step
                self.stream.write(f"{time.strftime('%H:%M:%S')} {label}: {done}/{total}\n")
                self.stream.flush()
        return report


# command line -------------------------------------------------------------------------------------
def register(subparsers) -> None:
    """Add the `eval` and `bench` subcommands to the newsdesk command line."""
    p = subparsers.add_parser("eval", help="score retrieval and answers on a benchmark (with the starter pipeline beside)")
    p.add_argument("--corpus", type=Path, required=True, help="JSONL(.gz) of articles: url, title, published, authors, body")
    p.add_argument("--questions", type=Path, required=True, help="JSONL of questions: id, asked_on, question, answers, gold_url")
    p.add_argument("--report", type=Path, help="write the JSON report here")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument("--llm", action="store_true", help="answer with the configured LLM instead of the extractive answerer")
    p.add_argument("--subset", action="store_true",
                   help="quick run: index only the questions' source articles, every article within ±10 days of "
                        "a question's date and 200 random others (built once under DATA_DIR/subsets)")
    p.add_argument("--no-baseline", action="store_true", help="skip the starter pipeline")
    p.add_argument("--data-root", type=Path, help="where eval indexes are kept (default: NEWSDESK_DATA_DIR)")
    p.set_defaults(func=_cmd_eval)

    b = subparsers.add_parser("bench", help="measure indexing throughput, rebuild, query latency, cold start, memory")
    b.add_argument("--corpus", type=Path, required=True)
    b.add_argument("--questions", type=Path, help="questions to time (default: generated from titles)")
    b.add_argument("--report", type=Path)
    b.add_argument("--small", type=int, default=500, help="articles in the small index (default 500)")
    b.add_argument("--index-articles", type=int, default=100,
                   help="articles indexed from scratch to time indexing against the embedder (default 100)")
    b.add_argument("--data-root", type=Path)
    b.add_argument("--skip", action="append", default=[], help="skip a part: index, rebuild, query, cold, all-query")
    b.set_defaults(func=_cmd_bench)


def _cmd_eval(args, settings=None) -> int:
    from .settings import Settings

    root = Path(args.data_root or (settings or Settings.from_env()).data_dir)
    corpus = subset_path(root, args.corpus, args.questions) if args.subset else args.corpus
    run_eval(corpus, args.questions, report=args.report, limit=args.limit, llm=args.llm,
             baseline=not args.no_baseline, root=root)
    return 0


def _cmd_bench(args, settings=None) -> int:
    from .bench import run_bench

    run_bench(args)
    return 0


def main(argv: list[str] | None = None) -> int:
    """`python -m index.eval eval|bench ...` (the same subcommands as `newsdesk eval|bench`)."""
    import argparse

    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(prog="python -m index.eval")
    sub = parser.add_subparsers(dest="command", required=True)
    register(sub)
    args = parser.parse_args(argv)
    return args.func(args, None)


if __name__ == "__main__":
    raise SystemExit(main())
