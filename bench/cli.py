"""The harness's subcommands of `newsdesk`: eval, eval-stories and bench."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from index import Settings

from .corpus import subset_path
from .eval import run_eval


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `eval`, `eval-stories` and `bench` subcommands to the newsdesk command line."""
    p = subparsers.add_parser(
        "eval", help="score retrieval and answers on a benchmark (with the starter pipeline beside)"
    )
    p.add_argument(
        "--corpus", type=Path, required=True, help="JSONL(.gz) of articles: url, title, published, authors, body"
    )
    p.add_argument(
        "--questions", type=Path, required=True, help="JSONL of questions: id, asked_on, question, answers, gold_url"
    )
    p.add_argument("--report", type=Path, help="write the JSON report here")
    p.add_argument("--limit", type=int, help="only the first N questions")
    p.add_argument(
        "--llm", action="store_true", help="answer with the configured LLM instead of the extractive answerer"
    )
    p.add_argument(
        "--subset",
        action="store_true",
        help="quick run: index only the questions' source articles, every article within ±10 days of "
        "a question's date and 200 random others (built once under DATA_DIR/subsets)",
    )
    p.add_argument("--no-baseline", action="store_true", help="skip the starter pipeline")
    p.add_argument("--data-root", type=Path, help="where eval indexes are kept (default: NEWSDESK_DATA_DIR)")
    p.set_defaults(func=_cmd_eval)

    s = subparsers.add_parser(
        "eval-stories",
        help="questions about stories (latest, since, timelines, a period's "
        "news, outlets) asked as of a date: how many expected properties of the answers hold",
    )
    s.add_argument("--corpus", type=Path, required=True, help="JSONL(.gz) of articles (the benchmark corpus)")
    s.add_argument(
        "--questions",
        type=Path,
        default=None,
        help="JSONL of story questions (default bench/data/story_questions.jsonl)",
    )
    s.add_argument(
        "--subset",
        action="store_true",
        help="quick run: index only the articles within 10 days of a question's as-of date and the "
        "labelled articles of the stories asked about (built once under DATA_ROOT/story-subsets)",
    )
    s.add_argument("--report", type=Path, help="write the JSON report here")
    s.add_argument("--data-root", type=Path, help="where eval indexes are kept (default: NEWSDESK_DATA_DIR)")
    s.set_defaults(func=_cmd_eval_stories)

    b = subparsers.add_parser("bench", help="measure indexing throughput, rebuild, query latency, cold start, memory")
    b.add_argument("--corpus", type=Path, required=True)
    b.add_argument("--questions", type=Path, help="questions to time (default: generated from titles)")
    b.add_argument("--report", type=Path)
    b.add_argument("--small", type=int, default=500, help="articles in the small index (default 500)")
    b.add_argument(
        "--index-articles",
        type=int,
        default=100,
        help="articles indexed from scratch to time indexing against the embedder (default 100)",
    )
    b.add_argument("--data-root", type=Path)
    b.add_argument("--skip", action="append", default=[], help="skip a part: index, rebuild, query, cold, all-query")
    b.add_argument(
        "--scale",
        type=int,
        metavar="N",
        help="instead: build an index of N copies of the eval index's articles (their vectors reused "
        "with noise, nothing embedded) and measure how the costs grow",
    )
    b.add_argument("--chroma-host", help="with --scale: use this Chroma server instead of the embedded store")
    b.add_argument("--chroma-port", type=int, default=8000)
    b.set_defaults(func=_cmd_bench)


def _cmd_eval(args: argparse.Namespace, ctx: Any) -> int:
    root = Path(args.data_root or Settings.from_env().data_dir)
    corpus = subset_path(root, args.corpus, args.questions) if args.subset else args.corpus
    run_eval(
        corpus,
        args.questions,
        progress=ctx.progress,
        report=args.report,
        limit=args.limit,
        llm=args.llm,
        baseline=not args.no_baseline,
        root=root,
    )
    return 0


def _cmd_eval_stories(args: argparse.Namespace, ctx: Any) -> int:
    from .stories_eval import QUESTIONS, run_story_eval

    root = Path(args.data_root or Settings.from_env().data_dir)
    run_story_eval(
        args.corpus,
        args.questions or QUESTIONS,
        progress=ctx.progress,
        root=root,
        subset=args.subset,
        report=args.report,
    )
    return 0


def _cmd_bench(args: argparse.Namespace, ctx: Any) -> int:
    if args.scale:
        import json

        from .corpus import eval_data_dir
        from .scale import run_scale

        root = Path(args.data_root or Settings.from_env().data_dir)
        source = eval_data_dir(root, args.corpus)
        if not (source / "newsdesk.sqlite3").exists():
            raise SystemExit(f"No index of {args.corpus} in {source}: run `newsdesk eval --corpus ...` first.")
        figures = run_scale(
            args.scale,
            source_dir=source,
            root=root,
            questions_file=args.questions,
            progress=ctx.progress,
            chroma_host=args.chroma_host,
            chroma_port=args.chroma_port,
        )
        print(json.dumps(figures, indent=2))
        if args.report:
            Path(args.report).write_text(json.dumps(figures, indent=2))
        return 0
    from .speed import run_bench

    run_bench(args)
    return 0
