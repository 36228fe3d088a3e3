"""A question's latency in Discord while two large adds and a rebuild run: the bot's lanes against one shared limit.

Run from the repository root (a few minutes; the figures are noisy on a shared machine, so the load average is
printed with them):

    python -m bench.lanes [--articles 60] [--large-chars 300000] [--questions 5] [--modes shared,lanes]

The real bot talks to the loopback fake Discord of the test suite, at Discord's real edit intervals, over a real
engine built in a temporary folder from the benchmark corpus. `shared` is the bot as it was before lanes (questions
and adds share max(2, CPUs) worker slots; rebuilds run outside them); `lanes` is the bot as it is. Latency is from
the slash command to the final answer (with its sources) in Discord.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.corpus import iter_jsonl  # noqa: E402
from bot.app import NewsdeskBot  # noqa: E402
from index import Engine, Settings, article_from_record, load_embed_model  # noqa: E402
from tests.bot.harness import connected  # noqa: E402
from tests.fakes.discord import FakeInteraction  # noqa: E402

T = TypeVar("T")
CORPUS = Path("/work/shared/bench/realtimeqa/corpus.jsonl.gz")
QUESTIONS = [
    "Which cities were hit by the strikes?",
    "What damage did the strikes cause?",
    "What were the peace talks expected to focus on?",
    "How did Ukrainian forces respond?",
    "What did aid organizations ask for?",
]


class SharedSlotsBot(NewsdeskBot):
    """The bot before lanes: questions, adds and removals share max(2, CPUs) slots; other calls are unbounded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._heavy = asyncio.Semaphore(max(2, os.cpu_count() or 2))

    async def run_engine(self, func: Callable[..., T], *args: Any, lane: str, **kwargs: Any) -> T:
        """As run_engine was: rebuilds and quick calls in the default executor, the rest behind the semaphore."""
        if lane == "quick" or getattr(func, "__name__", "") == "rebuild":
            return await asyncio.to_thread(func, *args, **kwargs)
        async with self._heavy:
            return await asyncio.to_thread(func, *args, **kwargs)


def large_texts(records: list[dict], size: int, count: int, tag: str) -> list[bytes]:
    """`count` long articles of about `size` characters each, made of consecutive corpus bodies."""
    out, i = [], 0
    for n in range(count):
        parts: list[str] = []
        while sum(map(len, parts)) < size:
            parts.append(records[i % len(records)]["body"])
            i += 1
        out.append(f"# Long read {tag}-{n}: a week of news\n\n{chr(10).join(parts)}".encode())
    return out


def answered(ix: FakeInteraction) -> bool:
    return bool((ix.original or {}).get("embeds"))


async def ask(env: Any, question: str) -> float:
    """Seconds from the slash command to the final answer in Discord."""
    started = time.monotonic()
    ix = await env.slash("ask", env.member("reader"), question=question)
    await env.wait_for(lambda: answered(ix), 300)
    return time.monotonic() - started


async def measure(engine: Engine, mode: str, large: list[bytes], questions: int) -> dict:
    bot_class = SharedSlotsBot if mode == "shared" else NewsdeskBot
    async with connected(engine, time_scale=1, bot_class=bot_class, add_per_minute=0) as env:
        idle = [await ask(env, q) for q in QUESTIONS[:3]]
        started = time.monotonic()
        writes = [
            await env.slash(
                "add-article", env.member(f"editor{i}"), file=env.attachment(f"long{i}.md", data, "text/markdown")
            )
            for i, data in enumerate(large)
        ]
        writes.append(await env.slash("rebuild-index", env.member("mod", moderator=True)))
        await asyncio.sleep(1.5)  # the adds and the rebuild are under way
        busy: list[tuple[float, bool]] = []
        for i in range(questions):
            running = not all(_finished(w) for w in writes)  # when the question is asked
            busy.append((await ask(env, QUESTIONS[i % len(QUESTIONS)]), running))
        await env.wait_for(lambda: all(_finished(w) for w in writes), 1800)
        writes_took = time.monotonic() - started
    during = [s for s, running in busy if running]
    outcomes = [(" ".join(m.get("content") or "" for m in w.messages) or "no reply")[:60] for w in writes]
    return {
        "mode": mode,
        "idle": idle,
        "under_load": busy,
        "during": during,
        "writes_took": writes_took,
        "outcomes": outcomes,
    }


def _finished(ix: FakeInteraction) -> bool:
    """The add or rebuild has its outcome (or an error) in Discord, or was never acknowledged."""
    if not ix.callbacks:
        return time.monotonic() - ix.created > 5
    text = " ".join(m.get("content") or "" for m in ix.messages)
    return bool(ix.messages) and not ix.placeholder and not text.startswith("Rebuilding the index")


def _fmt(values: list[float]) -> str:
    if not values:
        return "—"
    return f"median {statistics.median(values):.2f} s, max {max(values):.2f} s ({len(values)})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=60, help="corpus articles indexed before measuring")
    parser.add_argument("--large-chars", type=int, default=300_000, help="size of each of the two large adds")
    parser.add_argument("--questions", type=int, default=5, help="questions asked while the writes run")
    parser.add_argument("--modes", default="shared,lanes")
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args(argv)
    records = [r for r in iter_jsonl(args.corpus) if (r.get("body") or "").strip()]
    with tempfile.TemporaryDirectory(prefix="newsdesk-lanes-") as folder:
        settings = Settings(data_dir=Path(folder), seeds_dir=ROOT / "seeds")
        embed = load_embed_model(settings.embed_model)
        started = time.monotonic()
        engine = Engine.open(settings, embed_model=embed)
        try:
            engine.add_articles([article_from_record(r) for r in records[: args.articles]])
            print(
                f"index: {args.articles} corpus articles + seeds in {time.monotonic() - started:.0f} s; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs",
                flush=True,
            )
            for n, mode in enumerate(args.modes.split(",")):
                large = large_texts(records[args.articles + 200 * n :], args.large_chars, 2, f"{mode}{n}")
                result = measure_sync(engine, mode, large, args.questions)
                print(
                    f"{mode:>6}: idle {_fmt(result['idle'])}; while 2 adds of {args.large_chars:,} chars and a "
                    f"rebuild ran: {_fmt(result['during'])}; all asks under load "
                    f"{[round(s, 1) for s, _ in result['under_load']]}; writes took {result['writes_took']:.0f} s; "
                    f"load average {os.getloadavg()[0]:.1f}",
                    flush=True,
                )
                print(f"        writes: {result['outcomes']}", flush=True)
        finally:
            engine.close()
    return 0


def measure_sync(engine: Engine, mode: str, large: list[bytes], questions: int) -> dict:
    return asyncio.run(measure(engine, mode, large, questions))


if __name__ == "__main__":
    raise SystemExit(main())
