"""`newsdesk bench`: indexing throughput against the embedder's own, rebuild, query latency, cold start, memory.

Timings on a shared 2-core machine are noisy: every figure is printed with the load average seen while it
was taken.
"""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from index import Article, Engine, Settings, article_from_record, load_embed_model

from .corpus import Question, eval_data_dir, file_digest, iter_jsonl, load_questions
from .scoring import percentile


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def _write_corpus(records: list[dict], path: Path) -> Path:
    import gzip

    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        tmp = path.with_name(path.name + ".tmp")
        with gzip.open(tmp, "wt", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        tmp.replace(path)
    return path


def _questions_for(corpus: Path, questions: Path | None, limit: int = 60):
    """Benchmark questions whose source article is in the corpus, else questions made from titles."""
    from datetime import date, timedelta

    urls = {r.get("url") for r in iter_jsonl(corpus)}
    if questions:
        found = [q for q in load_questions(questions) if q.gold_url in urls]
        if found:
            return found[:limit]
    made = []
    for r in iter_jsonl(corpus):
        if r.get("title") and r.get("published"):
            asked = date.fromisoformat(r["published"]) + timedelta(days=2)
            made.append(
                Question(
                    id=r["url"], asked_on=asked, question=f"What happened: {r['title']}?", answers=(), gold_url=r["url"]
                )
            )
    random.Random(0).shuffle(made)
    return made[:limit]


def time_questions(engine, questions) -> dict:
    """Warm latency of engine.ask over the questions (one warm-up ask first)."""
    if not questions:
        return {}
    engine.ask(questions[0].question, as_of=questions[0].asked_on)
    latencies = []
    for q in questions:
        started = time.perf_counter()
        engine.ask(q.question, as_of=q.asked_on)
        latencies.append((time.perf_counter() - started) * 1000)
    return {
        "questions": len(latencies),
        "latency_ms_p50": percentile(latencies, 50),
        "latency_ms_p95": percentile(latencies, 95),
        "load": _load(),
    }


def bench_indexing(records: list[dict], root: Path, embed, sample: int = 4096) -> dict:
    """First build of a fresh index (cold embedding cache), the embedder alone on the same chunk texts,
    then the same articles added again (all unchanged) and a full rebuild from the cache."""
    data_dir = root / f"bench-index-{os.getpid()}"
    shutil.rmtree(data_dir, ignore_errors=True)
    settings = Settings(data_dir=data_dir, seeds_dir=Path("/nonexistent"))
    articles = [article_from_record(r) for r in records if (r.get("body") or "").strip()]
    engine = Engine.open(settings, embed_model=embed, seed=False)
    warm = Article(title="Warm-up", body="LlamaIndex is imported once a process; that is not throughput.")
    engine.remove(engine.add_article(warm).article.id)
    try:
        load_before = _load()
        started = time.perf_counter()
        engine.add_articles(articles)
        first = time.perf_counter() - started
        chunks = engine.status().chunks
        # the embedder alone on the same texts (each chunk, and each article's title alone), all of them up
        # to `sample`: what indexing would cost with nothing else (a small sample's lengths differ too much
        # from the whole to compare with it); expressed in chunks per second
        stored = [engine.vectors(info.id) for info in engine.list_articles()]
        texts = [t for v in stored for t in v.embed_texts]
        titles = [v.title for v in stored if v.title]
        per_chunk = _seconds_each(embed, random.Random(0).sample(texts, min(sample, len(texts))))
        per_title = _seconds_each(embed, random.Random(0).sample(titles, min(sample, len(titles))))
        raw_rate = len(texts) / (len(texts) * per_chunk + len(titles) * per_title)
        started = time.perf_counter()
        engine.add_articles(articles)
        readd = time.perf_counter() - started
        report = engine.rebuild()
        rebuild = report.seconds
        rate = chunks / first
        return {
            "articles": len(articles),
            "chunks": chunks,
            "first_build_s": first,
            "chunks_per_s": rate,
            "articles_per_s": len(articles) / first,
            "embedder_raw_chunks_per_s": raw_rate,
            "share_of_embedder": rate / raw_rate,
            "readd_unchanged_s": readd,
            "rebuild_from_cache_s": rebuild,
            "rebuild_speedup": first / rebuild if rebuild else None,
            "readd_speedup": first / readd if readd else None,
            "rebuild_embedded": report.embedded,
            "load_before": load_before,
            "load_after": _load(),
        }
    finally:
        engine.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _seconds_each(embed, texts: list[str]) -> float:
    if not texts:
        return 0.0
    started = time.perf_counter()
    embed.embed(texts) if hasattr(embed, "embed") else embed.get_text_embedding_batch(texts)
    return (time.perf_counter() - started) / len(texts)


def bench_cold_start(data_dir: Path, question: str, as_of: str, runs: int = 3) -> dict:
    """Wall time of `newsdesk ask` in a fresh process against an existing index."""
    exe = Path(sys.executable).with_name("newsdesk")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "cli"]
    env = {**os.environ, "NEWSDESK_DATA_DIR": str(data_dir), "TQDM_DISABLE": "1"}
    env.pop("LLM_BASE_URL", None)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run(cmd + ["ask", question, "--as-of", as_of], env=env, capture_output=True, text=True)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            return {"error": done.stderr[-500:]}
    import_cmd = [sys.executable, "-c", "import index"]
    started = time.perf_counter()
    subprocess.run(import_cmd, env=env, capture_output=True)
    import_s = time.perf_counter() - started
    child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "runs": times,
        "cold_start_s_median": sorted(times)[len(times) // 2],
        "import_engine_s": import_s,
        "child_peak_rss_mb": child_peak,
        "load": _load(),
    }


def run_bench(args) -> dict:
    """Run the parts of the benchmark and print/write the figures."""
    from .corpus import build_engine

    base = Settings.from_env()
    root = Path(args.data_root or base.data_dir)
    skip = set(args.skip or ())
    embed = load_embed_model(base.embed_model, base.embed_batch_size)
    records = list(iter_jsonl(args.corpus))
    rng = random.Random(0)
    small_records = sorted(rng.sample(records, min(args.small, len(records))), key=lambda r: r.get("url") or "")
    small_path = _write_corpus(
        small_records, root / "subsets" / f"bench-{file_digest(args.corpus)[:12]}-{len(small_records)}.jsonl.gz"
    )
    result: dict = {"corpus": str(args.corpus), "small_corpus": str(small_path), "cpus": os.cpu_count()}

    if "index" not in skip:
        n = min(args.index_articles, len(small_records))
        result["indexing"] = bench_indexing(small_records[:n], root, embed)
        print(f"indexing: {json.dumps(result['indexing'])}", flush=True)

    if "query" not in skip:
        engine, build = build_engine(small_path, root=root, settings=base, embed_model=embed)
        try:
            result["query_small"] = {
                "articles": build["articles"],
                "chunks": build["chunks"],
                **time_questions(engine, _questions_for(small_path, args.questions)),
            }
        finally:
            engine.close()
        print(f"query at {build['articles']} articles: {json.dumps(result['query_small'])}", flush=True)
        if "cold" not in skip:
            q = _questions_for(small_path, args.questions, 1)
            if q:
                result["cold_start"] = bench_cold_start(
                    Path(build["data_dir"]), q[0].question, q[0].asked_on.isoformat()
                )
                print(f"cold start: {json.dumps(result['cold_start'])}", flush=True)

    if "all-query" not in skip:
        full_dir = eval_data_dir(root, args.corpus)
        if (full_dir / "newsdesk.sqlite3").exists():
            engine, build = build_engine(args.corpus, root=root, settings=base, embed_model=embed)
            try:
                result["query_full"] = {
                    "articles": build["articles"],
                    "chunks": build["chunks"],
                    "reopen_s": build["index_seconds"],
                    **time_questions(engine, _questions_for(args.corpus, args.questions)),
                }
            finally:
                engine.close()
            print(f"query at {build['articles']} articles: {json.dumps(result['query_full'])}", flush=True)
        else:
            result["query_full"] = {
                "skipped": f"no index of the full corpus yet in {full_dir}; run `newsdesk eval --corpus` on it first"
            }

    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory of this process: {result['peak_rss_mb']:.0f} MB", flush=True)
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(result, indent=2, default=str))
    return result
