"""What a corpus per server costs questions: `python -m bench.isolation --per-server N`.

Two indexes of the same size are built from copies of a source index's articles (each copy's vectors are its
original's with a little noise, so nothing is embedded: bench.scale's ReplayEmbedder): one with S servers of N
articles each (default 20), one with a single server of S·N. The same questions are then asked in both, from a
server (round robin over the S servers, whose filters select 1/S of the vectors and keyword rows; the single
server's select them all), and the latency of engine.ask and of retrieval alone is reported (p50/p95), with a
check that no passage came from another server. With --log-questions K, K questions are also asked with the
question log on, and the log's size per 1,000 questions is measured (SQLite's dbstat).

The source is an index with vectors: the one `newsdesk eval` builds (--source DIR), or one made here from the
first --source-articles articles of --corpus (those are embedded once; the copies never are).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from index import Article, Engine, Settings, article_from_record, load_embed_model

from .corpus import Question, iter_jsonl, load_questions
from .scale import ReplayEmbedder, copy_of
from .scoring import percentile

BATCH = 250
LOG_TABLES = ("questions", "questions_server", "questions_time")


def source_index(args: argparse.Namespace, base: Settings, real: Any) -> Settings:
    """The source index's settings: --source, or a small one built from the corpus (embedded once)."""
    if args.source:
        return replace(
            base,
            data_dir=args.source,
            embed_cache=args.source.parent / "embeddings.sqlite3",
            llm_base_url=None,
            seeds_dir=Path("/nonexistent"),
        )
    settings = replace(
        base,
        data_dir=args.root / f"source-{args.source_articles}",
        embed_cache=None,
        llm_base_url=None,
        seeds_dir=Path("/nonexistent"),
        question_log_days=0,
    )
    engine = Engine.open(settings, embed_model=real, seed=False)
    try:
        if engine.status().articles < args.source_articles:
            records = [r for r in iter_jsonl(args.corpus) if (r.get("body") or "").strip()][: args.source_articles]
            engine.add_articles([article_from_record(r) for r in records])
    finally:
        engine.close()
    return settings


def build(
    target: Settings,
    embed: ReplayEmbedder,
    articles: list[Article],
    servers: list[str],
    per_server: int,
) -> dict:
    """Fill an index with per_server copies in each server (continuing where an earlier run stopped)."""
    engine = Engine.open(target, embed_model=embed, seed=False)
    started = time.perf_counter()
    try:
        for s, server in enumerate(servers):
            have = engine.status(server=server).articles
            wanted = [
                copy_of(articles[i % len(articles)], i // len(articles))
                for i in range(s * per_server + have, (s + 1) * per_server)
            ]
            for start in range(0, len(wanted), BATCH):
                engine.add_articles(wanted[start : start + BATCH], server=server)
            print(f"  {target.data_dir.name}: {server} has {per_server} articles", file=sys.stderr)
        counts = [engine.status(server=server) for server in servers]
    finally:
        engine.close()
    return {
        "articles": sum(c.articles for c in counts),
        "chunks": sum(c.chunks for c in counts),
        "build_seconds": round(time.perf_counter() - started, 1),
    }


def measure(target: Settings, embed: ReplayEmbedder, servers: list[str], questions: list[Question]) -> dict:
    """ask and retrieve latency from the servers in turn; passages from another server are counted."""
    engine = Engine.open(target, embed_model=embed, seed=False)
    try:
        engine.ask(questions[0].question, server=servers[0], as_of=questions[0].asked_on)  # warm
        own = {s: {i.id for i in engine.list_articles(server=s) if i.server == s} for s in servers}
        asks, retrievals, foreign = [], [], 0
        for i, q in enumerate(questions):
            server = servers[i % len(servers)]
            started = time.perf_counter()
            passages = engine.retrieve(q.question, server=server, as_of=q.asked_on).passages
            retrievals.append(time.perf_counter() - started)
            foreign += sum(p.article_id not in own[server] for p in passages)
            started = time.perf_counter()
            engine.ask(q.question, server=server, as_of=q.asked_on)
            asks.append(time.perf_counter() - started)
    finally:
        engine.close()
    ms = lambda xs, p: round(percentile([x * 1000 for x in xs], p), 1)
    return {
        "questions": len(questions),
        "ask_ms_p50": ms(asks, 50),
        "ask_ms_p95": ms(asks, 95),
        "retrieve_ms_p50": ms(retrievals, 50),
        "retrieve_ms_p95": ms(retrievals, 95),
        "passages_from_another_server": foreign,
        "load": round(os.getloadavg()[0], 2),
    }


def log_size(
    target: Settings, embed: ReplayEmbedder, servers: list[str], questions: list[Question], count: int
) -> dict:
    """Ask `count` questions with the question log on; its bytes (tables and indexes) per 1,000 questions."""
    settings = replace(target, question_log_days=30)
    engine = Engine.open(settings, embed_model=embed, seed=False)
    db = sqlite3.connect(f"file:{Path(settings.data_dir) / 'newsdesk.sqlite3'}?mode=ro", uri=True)
    try:
        pages = f"SELECT COALESCE(SUM(pgsize), 0) FROM dbstat WHERE name IN ({','.join('?' * len(LOG_TABLES))})"
        before = db.execute(pages, LOG_TABLES).fetchone()[0]
        rows_before = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
        seconds = []
        for i in range(count):
            q = questions[i % len(questions)]
            started = time.perf_counter()
            engine.ask(q.question, server=servers[i % len(servers)], asker=f"bench:{i % 50}", as_of=q.asked_on)
            seconds.append(time.perf_counter() - started)
        after = db.execute(pages, LOG_TABLES).fetchone()[0]
        rows = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0] - rows_before
        payload = db.execute(
            "SELECT AVG(LENGTH(question) + LENGTH(answer) + LENGTH(cited) + LENGTH(asker)"
            " + LENGTH(asked_at) + LENGTH(as_of)) FROM questions"
        ).fetchone()[0]
    finally:
        db.close()
        engine.close()
    return {
        "questions_logged": rows,
        "bytes_per_1000_questions": round((after - before) / max(1, rows) * 1000),
        "text_bytes_per_question": round(payload or 0),
        "ask_ms_p50_with_log": round(percentile([s * 1000 for s in seconds], 50), 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.isolation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--per-server", type=int, default=100, help="articles per server (N; default 100)")
    parser.add_argument("--servers", type=int, default=20, help="servers in the first index (default 20)")
    parser.add_argument("--source", type=Path, help="an index with vectors (e.g. DATA/eval-… from newsdesk eval)")
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz"))
    parser.add_argument(
        "--source-articles",
        type=int,
        default=150,
        help="without --source: embed this many corpus articles once as the source (default 150)",
    )
    parser.add_argument("--questions", type=Path, default=Path("/work/shared/bench/realtimeqa/questions.dev.jsonl"))
    parser.add_argument("--root", type=Path, default=Path("data/bench-isolation"), help="where the indexes go")
    parser.add_argument("--limit", type=int, default=0, help="ask only the first N questions in each layout (0: all)")
    parser.add_argument("--log-questions", type=int, default=0, help="also measure the question log over K questions")
    parser.add_argument("--report", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    base = replace(Settings.from_env(), question_log_days=0)  # latency without the log's write, in both layouts
    real = load_embed_model(base.embed_model, base.embed_batch_size)
    source_settings = source_index(args, base, real)
    source = Engine.open(source_settings, embed_model=real, seed=False)
    ids = [i.id for i in source.list_articles()]
    articles = [source.get_article(i) for i in ids]
    embed = ReplayEmbedder(real, source, ids)
    source.close()
    n, s = args.per_server, args.servers
    many = [f"server-{k:02d}" for k in range(s)]
    layouts = {f"{s}_servers_x_{n}": (many, n), f"1_server_x_{s * n}": (["server-00"], s * n)}
    questions = load_questions(args.questions)[: args.limit or None]
    figures: dict[str, Any] = {"per_server": n, "servers": s, "source_articles": len(articles), "cpus": os.cpu_count()}
    for name, (servers, per_server) in layouts.items():
        target = replace(base, data_dir=args.root / name, embed_cache=None, seeds_dir=Path("/nonexistent"))
        figures[name] = build(target, embed, articles, servers, per_server)
        figures[name].update(measure(target, embed, servers, questions))
        if args.log_questions and len(servers) > 1:
            figures["question_log"] = log_size(target, embed, servers, questions, args.log_questions)
    figures["replay_misses"] = embed.misses
    print(json.dumps(figures, indent=2))
    if args.report:
        args.report.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
