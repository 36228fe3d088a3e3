"""How long each fault takes to reach the user as a message, with the default settings.

Run from the repository root (about two minutes): `python -m bench.faults`. Real parts throughout: a `chroma run`
server frozen with SIGSTOP or restarted on an empty path, a file-size limit as a full disk, damaged files opened by
a fresh `newsdesk` process (whose time includes its cold start). The tests check what each message says; this
script only times them.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from index import Article, Engine, NewsdeskError, Settings, load_embed_model
from tests.engine.chroma_server import ChromaServer, free_port

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"


def article(n: int, paragraphs: int = 40) -> Article:
    """A made-up article of some length."""
    body = " ".join(
        f"Paragraph {i} of report {n}: the harbour board met on day {i} and voted on the tram line."
        for i in range(paragraphs)
    )
    return Article(
        title=f"Report {n}",
        body=body,
        outlet="Bench Daily",
        published=date(2024, 3, 2),
        url=f"https://bench.example/report-{n}",
    )


def timed(fn: Callable[[], Any]) -> tuple[float, str]:
    """Seconds until fn returned or raised, and what it raised (or 'returned')."""
    start = time.monotonic()
    try:
        fn()
        outcome = "returned"
    except NewsdeskError as exc:
        outcome = f"{type(exc).__name__}: {str(exc)[:110]}"
    return time.monotonic() - start, outcome


def cli(data_dir: Path, *args: str) -> tuple[float, str]:
    """Seconds a fresh `newsdesk` process takes to exit, and the first line it printed to stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NEWSDESK_", "CHROMA_", "LLM_"))}
    env.update(NEWSDESK_DATA_DIR=str(data_dir), NEWSDESK_SEEDS_DIR=str(SEEDS), TQDM_DISABLE="1")
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "--env-file", "/nonexistent", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return time.monotonic() - start, (done.stderr.strip().splitlines() or ["(nothing)"])[0][:110]


def full_disks(root: Path, embed: Any) -> list[tuple[str, float, str]]:
    """An add on a real full file system (a small tmpfs, when this process may mount one), and an add that
    reaches the process's file-size limit part-way (the limit is set in this process, then lifted)."""
    rows: list[tuple[str, float, str]] = []
    batch = [article(n, 120) for n in range(2, 40)]
    small = root / "small"
    small.mkdir()
    mounted = (
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(small)], capture_output=True).returncode
        == 0
    )
    if mounted:
        try:
            settings = Settings(data_dir=small / "data", seeds_dir=SEEDS)
            engine = Engine.open(settings, embed_model=embed)
            free = os.statvfs(small).f_bavail * os.statvfs(small).f_frsize
            (small / "filler").write_bytes(b"\0" * (free - 512_000))
            rows.append(("add of 38 articles, file system full", *timed(lambda: engine.add_articles(batch))))
            rows.append(("question after it", *timed(lambda: engine.ask("Which cities were hit?"))))
            engine.close()
        finally:
            subprocess.run(["umount", "-l", str(small)], capture_output=True)
    settings = Settings(data_dir=root / "limited", seeds_dir=SEEDS)
    engine = Engine.open(settings, embed_model=embed)
    limit = max(p.stat().st_size for p in settings.data_dir.rglob("*") if p.is_file()) + 256_000
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        rows.append(
            (
                "add of 12 articles, file-size limit reached part-way (incl. their embedding)",
                *timed(lambda: engine.add_articles(batch[:12])),
            )
        )
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    rows.append(("question after it", *timed(lambda: engine.ask("Which cities were hit?"))))
    engine.close()
    return rows


def main() -> None:
    embed = load_embed_model(Settings().embed_model)
    rows: list[tuple[str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        port = free_port()
        server = ChromaServer(root / "server", port).start()
        settings = Settings(data_dir=root / "remote", seeds_dir=SEEDS, chroma_host="127.0.0.1", chroma_port=port)
        engine = Engine.open(settings, embed_model=embed)
        engine.ask("Which cities were hit?")
        server.freeze()
        rows.append(("question, server hung (SIGSTOP)", *timed(lambda: engine.ask("Which cities were hit?"))))
        rows.append(("add, server hung", *timed(lambda: engine.add_article(article(1)))))
        server.thaw()
        server.stop()
        server = ChromaServer(root / "empty", port).start()
        rows.append(("status, server restarted empty", *timed(lambda: print(engine.status().extra["problem"]))))
        engine.close()
        rows.append(
            ("start that restores it (no embedding)", *timed(lambda: Engine.open(settings, embed_model=embed).close()))
        )
        server.stop()
        rows.extend(full_disks(root, embed))
        local = Settings(data_dir=root / "local", seeds_dir=SEEDS)
        Engine.open(local, embed_model=embed).close()
        catalog = local.data_dir / "newsdesk.sqlite3"
        for extra in local.data_dir.glob("newsdesk.sqlite3-*"):
            extra.unlink()
        saved = catalog.read_bytes()
        catalog.write_bytes(saved[:4096])
        rows.append(("`newsdesk ask`, catalog truncated", *cli(local.data_dir, "ask", "Which cities?")))
        catalog.write_bytes(saved)
        store = local.data_dir / "chroma" / "chroma.sqlite3"
        store.write_bytes(b"this is not a database" * 100)
        rows.append(("`newsdesk ask`, vector store damaged", *cli(local.data_dir, "ask", "Which cities?")))
        rows.append(("`newsdesk rebuild` taking the way out", *cli(local.data_dir, "rebuild")))
        afile = root / "afile"
        afile.write_text("x")
        rows.append(("`newsdesk status`, data dir is a file", *cli(afile, "status")))
    print("| fault | seconds | what the user gets |\n|---|---|---|")
    for name, seconds, outcome in rows:
        print(f"| {name} | {seconds:.2f} | {outcome} |")


if __name__ == "__main__":
    main()
