"""A fresh process measured by the scale benchmark: `python -m bench.probe ask QUESTION AS_OF` (the cold
start of `newsdesk ask`) or `python -m bench.probe serve` (what the bot does: open the index, then answer
the questions given as JSON on stdin). Prints one JSON line with its peak memory."""

from __future__ import annotations

import json
import resource
import sys
import time
from datetime import date

from index import Engine, Settings


def peak_rss_mb() -> int:
    """This process's peak resident memory. Linux's ru_maxrss survives exec, so a process started by a big one
    would report its parent's peak: VmHWM (this program's own high-water mark) is read instead where it exists."""
    try:
        for line in open("/proc/self/status", encoding="ascii"):
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def main(argv: list[str]) -> int:
    started = time.perf_counter()
    settings = Settings.from_env()
    engine = Engine.open(settings, seed=False)
    opened = time.perf_counter() - started
    if argv[0] == "ask":
        engine.ask(argv[1], as_of=date.fromisoformat(argv[2]))
        asked = 1
    else:
        questions = json.loads(sys.stdin.read())
        for question, as_of in questions:
            engine.ask(question, as_of=date.fromisoformat(as_of))
        asked = len(questions)
    engine.close()
    print(json.dumps({"open_s": round(opened, 2), "asked": asked, "peak_rss_mb": peak_rss_mb()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
