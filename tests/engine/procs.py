"""A second Newsdesk process for the tests: `python -m tests.engine.procs COMMAND DATA_DIR [ARGS]`.

Commands: add N PREFIX (add N generated articles), remove TEXT (every article whose title contains it),
rebuild, ask QUESTION, serve (answer questions read from stdin until EOF), import FILE (a JSONL file;
IMPORT_BATCH articles a step). With PAUSE_AT=<point> and PAUSE_FILE=<path> in the environment the process
stops at that point of its work (it writes the file and waits until the file is deleted) so that a test can
SIGKILL it exactly there, or let it go on.
Points: after-vectors (an add wrote its vectors, the catalog not yet), after-commit (the catalog committed,
old vectors not yet deleted), during-fill (a rebuild filled its first batch), before-switch, import-landed (an
import's second batch is in the catalog, the import's progress not yet remembered).
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from index import Article, Engine, NewsdeskError, Settings  # noqa: E402


def article(prefix: str, i: int) -> Article:
    """A small generated article, distinct per prefix and number."""
    day = date(2024, 1, 1) + timedelta(days=i % 300)
    return Article(
        title=f"{prefix} report {i}: harbour {i} reopens",
        body=f"The harbour number {i} of {prefix} reopened on {day:%A} after repairs. "
        f"Officials in {prefix} town said {i * 3} ships were waiting. Trade resumed at noon.",
        outlet=f"{prefix} Wire",
        published=day,
        url=f"https://{prefix.lower()}.example/harbour-{i}",
    )


def pause(point: str) -> None:
    """Stop here when the test asked for this point, until it deletes the pause file (or kills us)."""
    if os.environ.get("PAUSE_AT") != point:
        return
    flag = Path(os.environ["PAUSE_FILE"])
    flag.write_text(str(os.getpid()))
    while flag.exists():
        time.sleep(0.05)


def _install_pauses() -> None:
    import index.generations
    import index.ingest

    save = index.ingest._save
    finish = index.ingest._finish_delete
    fill_chunked = index.generations.Generations._chunked
    switch = index.generations.Generations._switch

    def paused_save(db, chunked, *rest):  # type: ignore[no-untyped-def]
        pause("after-vectors")
        return save(db, chunked, *rest)

    def paused_finish(*args, **kwargs):  # type: ignore[no-untyped-def]
        pause("after-commit")
        return finish(*args, **kwargs)

    calls = {"n": 0}

    def paused_chunked(self, ids, rechunk):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            pause("during-fill")
        return fill_chunked(self, ids, rechunk)

    def paused_switch(self, *args):  # type: ignore[no-untyped-def]
        pause("before-switch")
        return switch(self, *args)

    import index.importer

    add_batch = index.importer._add_batch
    landed = {"n": 0}

    def paused_add_batch(*args, **kwargs):  # type: ignore[no-untyped-def]
        results = add_batch(*args, **kwargs)
        landed["n"] += 1
        if landed["n"] == 2:
            pause("import-landed")
        return results

    index.importer._add_batch = paused_add_batch
    index.importer.BATCH = int(os.environ.get("IMPORT_BATCH", index.importer.BATCH))
    index.generations.FILL_BATCH = int(os.environ.get("FILL_BATCH", index.generations.FILL_BATCH))
    index.ingest._save = paused_save
    index.ingest._finish_delete = paused_finish
    index.generations.Generations._chunked = paused_chunked
    index.generations.Generations._switch = paused_switch


def main(argv: list[str]) -> int:
    command, data_dir, *rest = argv
    _install_pauses()
    settings = Settings(
        data_dir=Path(data_dir),
        seeds_dir=ROOT / "seeds",
        chroma_host=os.environ.get("CHROMA_HOST") or None,
        chroma_port=int(os.environ.get("CHROMA_PORT") or 8000),
    )
    try:
        engine = Engine.open(settings, seed=False)
        if command == "add":
            count, prefix = int(rest[0]), rest[1]
            batch = int(os.environ.get("ADD_BATCH", "1"))
            for start in range(0, count, batch):
                engine.add_articles([article(prefix, i) for i in range(start, min(count, start + batch))])
            print(json.dumps({"added": count}))
        elif command == "remove":
            removed = 0
            for info in engine.list_articles(rest[0]):
                engine.remove(info.id)
                removed += 1
            print(json.dumps({"removed": removed}))
        elif command == "import":
            report = engine.import_jsonl(Path(rest[0]))
            print(json.dumps({"added": report.added, "unchanged": report.unchanged, "resumed_at": report.resumed_at}))
        elif command == "rebuild":
            report = engine.rebuild()
            print(json.dumps({"collection": report.collection, "embedded": report.embedded}))
        elif command == "ask":
            print(json.dumps(engine.ask(rest[0], as_of=date(2024, 12, 31)).to_dict()))
        elif command == "serve":
            for line in sys.stdin:
                try:
                    answer = engine.ask(line.strip(), as_of=date(2024, 12, 31))
                    print(
                        json.dumps({"text": answer.text, "ids": [c.passage.article_id for c in answer.citations]}),
                        flush=True,
                    )
                except NewsdeskError as exc:
                    print(json.dumps({"error": str(exc)}), flush=True)
        engine.close()
    except NewsdeskError as exc:
        print(json.dumps({"error": str(exc), "kind": type(exc).__name__}))
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
