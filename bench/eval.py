"""`newsdesk eval`: retrieval and answer quality on a benchmark, with the starter pipeline beside."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from index import Answerer, Embedder, Engine, NewsdeskError, Settings, build_answerer, load_embed_model, url_article_id

from .corpus import Question, build_engine, load_questions
from .scoring import LEAD_CHARS, SHOWN_CHARS, answer_correct, citations_hold, gold_rank, shown_text, summarise

Progress = Callable[[int, int], None]

RANK_DEPTH = 50  # passages retrieved to rank the articles


def article_id_of(url: str | None) -> str | None:
    """The engine's id of the article at a URL."""
    return url_article_id(url) if url else None


def evaluate_engine(
    engine: Engine, questions: list[Question], *, progress: Progress | None = None, answerer: Answerer | None = None
) -> list[dict]:
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
        rows.append(
            {
                "id": q.id,
                "question": q.question,
                "answers": list(q.answers),
                "rank": rank,
                "correct": answer_correct(q.answers, shown),
                "correct_lead": answer_correct(q.answers, shown, LEAD_CHARS),
                "covered": answer.covered,
                "latency_ms": latency,
                "shown": shown[:SHOWN_CHARS],
                "lead": answer.lead,
                "cited_gold": any(c.passage.article_id == gold for c in answer.citations),
                "answerer": answer.answerer,
                "citations_ok": citations_hold(answer),
            }
        )
        if progress:
            progress(done, len(questions))
    return rows


def evaluate_baseline(pipeline: Any, questions: list[Question], *, progress: Progress | None = None) -> list[dict]:
    """The starter pipeline on the same questions (no dates: it cannot use them)."""
    rows = []
    for done, q in enumerate(questions, 1):
        gold = article_id_of(q.gold_url)
        started = time.perf_counter()
        hits = pipeline.query(q.question)
        latency = (time.perf_counter() - started) * 1000
        rank = gold_rank([article_id_of(h.url) for h in hits], gold)
        shown = hits[0].text[:SHOWN_CHARS] if hits else ""
        rows.append(
            {
                "id": q.id,
                "question": q.question,
                "answers": list(q.answers),
                "rank": rank,
                "correct": answer_correct(q.answers, shown),
                "correct_lead": answer_correct(q.answers, shown, LEAD_CHARS),
                "covered": bool(hits),
                "latency_ms": latency,
                "shown": shown,
            }
        )
        if progress:
            progress(done, len(questions))
    return rows


COLUMNS = [
    ("hits_at_1", "Hits@1", "{:.3f}"),
    ("hits_at_5", "Hits@5", "{:.3f}"),
    ("hits_at_10", "Hits@10", "{:.3f}"),
    ("mrr_at_10", "MRR@10", "{:.3f}"),
    ("answer_accuracy", "answer", "{:.3f}"),
    ("answer_lead_accuracy", "answer@250", "{:.3f}"),
    ("not_covered_rate", "not covered", "{:.3f}"),
    ("latency_ms_p50", "p50 ms", "{:.0f}"),
    ("latency_ms_p95", "p95 ms", "{:.0f}"),
]


def format_table(rows: dict[str, dict]) -> str:
    """A Markdown table of summaries by pipeline name."""
    head = "| pipeline | " + " | ".join(label for _, label, _ in COLUMNS) + " |"
    lines = [head, "|---" * (len(COLUMNS) + 1) + "|"]
    for name, summary in rows.items():
        cells = [fmt.format(summary[key]) if key in summary else "—" for key, _, fmt in COLUMNS]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_eval(
    corpus: Path,
    questions_file: Path,
    *,
    progress: Callable[[str], Progress],
    report: Path | None = None,
    limit: int | None = None,
    llm: bool = False,
    baseline: bool = True,
    root: Path | None = None,
    out: IO[str] = sys.stdout,
    embed_model: Embedder | None = None,
) -> dict:
    """Build (or reuse) the index and the starter pipeline for a corpus, score both; returns the report."""
    base = Settings.from_env()
    if llm and not base.llm_enabled:
        raise NewsdeskError("--llm needs an LLM endpoint: set LLM_BASE_URL and LLM_MODEL (see .env.example).")
    root = Path(root or base.data_dir)
    questions = load_questions(questions_file)[: limit or None]
    embed = embed_model or load_embed_model(base.embed_model, base.embed_batch_size)
    status = progress
    engine, build = build_engine(corpus, root=root, settings=base, embed_model=embed, progress=status("indexing"))
    llm_rows: list[dict] = []
    try:
        rows = evaluate_engine(engine, questions, progress=status("asking"))
        if llm:
            llm_rows = evaluate_engine(
                engine, questions, progress=status("asking the LLM"), answerer=build_answerer(base, embed)
            )
    finally:
        engine.close()

    def scored(found: list[dict], answerer: str) -> dict:
        count = max(1, len(found))
        figures = {
            **summarise(found),
            "citations_ok_rate": sum(r["citations_ok"] for r in found) / count,
            "answerer": answerer,
        }
        if answerer == "llm":  # answers the LLM answerer had to leave to the extractive one
            figures["fallback_rate"] = sum(not r["answerer"].startswith("llm") for r in found) / count
        return figures

    # With --llm the top-level figures are the LLM answerer's and the extractive ones sit beside them.
    result = {
        **scored(llm_rows or rows, "llm" if llm else "extractive"),
        "corpus": str(corpus),
        "questions_file": str(questions_file),
        "build": build,
    }
    table = {"newsdesk": result}
    if llm:
        result["extractive"] = scored(rows, "extractive")
        table = {"newsdesk, LLM answers": result, "newsdesk, extractive answers": result["extractive"]}
    if baseline:
        from .baseline import StarterPipeline

        pipeline = StarterPipeline(Path(build["data_dir"]), embed, Path(build["embed_cache"]))
        result["baseline_build"] = pipeline.build(corpus, progress=status("baseline indexing"))
        base_rows = evaluate_baseline(pipeline, questions, progress=status("baseline asking"))
        result["baseline"] = summarise(base_rows)
        table["starter pipeline (baseline)"] = result["baseline"]
    else:
        base_rows = []
    print(format_table(table), file=out)
    print(
        f"{len(questions)} questions, {build['articles']} articles / {build['chunks']} chunks "
        f"({build['data_dir']}); latency = whole ask (ours) / retrieval only (baseline)",
        file=out,
    )
    if report:
        full = {**result, "per_question": llm_rows or rows, "baseline_per_question": base_rows}
        if llm:
            full["extractive_per_question"] = rows
        Path(report).parent.mkdir(parents=True, exist_ok=True)
        Path(report).write_text(json.dumps(full, indent=2, ensure_ascii=False, default=str))
    return result
