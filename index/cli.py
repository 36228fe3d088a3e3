"""The terminal face: the `newsdesk` command."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import textwrap
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from .errors import NewsdeskError
from .settings import Settings

if TYPE_CHECKING:
    from .engine import Engine
    from .results import Answer

log = logging.getLogger("newsdesk")


class ProgressBar:
    """A one-line progress bar on stderr (plain lines when stderr is not a terminal)."""

    def __init__(self, label: str, stream=None) -> None:
        self.label = label
        self.stream = stream or sys.stderr
        self._tty = self.stream.isatty()
        self._last = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 if total == 0 else int(done * 100 / total)
        if percent == self._last:
            return
        self._last = percent
        if self._tty:
            filled = percent // 4
            self.stream.write(f"\r{self.label} [{'#' * filled}{'.' * (25 - filled)}] {done}/{total}")
            if done >= total:
                self.stream.write("\n")
        elif percent % 10 == 0 or done >= total:
            self.stream.write(f"{self.label}: {done}/{total}\n")
        self.stream.flush()


def render_answer(answer: "Answer", width: int = 100) -> str:
    """An answer as terminal text: the cited sentences, then the numbered sources with their passages."""
    lines = [textwrap.fill(answer.text, width)]
    if answer.citations:
        lines += ["", "Sources:"]
    for citation in answer.citations:
        p = citation.passage
        when = p.published.isoformat() if p.published else "date unknown"
        lines.append(f"[{citation.number}] {p.title} — {p.outlet or 'outlet unknown'}, {when}")
        if p.url:
            lines.append(f"    {p.url}")
        lines += textwrap.wrap(citation.quote, width, initial_indent="    > ", subsequent_indent="    > ")
    return "\n".join(lines)


def _open_engine(settings: Settings) -> "Engine":
    from .engine import Engine

    engine = Engine(settings)
    engine.ensure_seeded(ProgressBar("Indexing seed articles"))
    if engine.needs_rebuild():
        print("The index was built with another embedding model or chunking; rebuilding.", file=sys.stderr)
        engine.rebuild(ProgressBar("Rebuilding"))
    return engine


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    answer = engine.ask(args.question, as_of=args.as_of)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, settings: Settings, input_fn: Callable[[str], str] | None = None) -> int:
    from .results import Turn

    read = input_fn or input
    engine = _open_engine(settings)
    count = engine.status().articles
    print(f"Newsdesk: ask about the {count} article(s) in the index. Follow-ups keep the conversation; "
          "'new' starts over, 'quit' (or Ctrl-D) leaves.")
    history: list[Turn] = []
    while True:
        try:
            question = read("\n> ").strip()
        except (EOFError, KeyboardInterrupt):
            print()
            return 0
        if question.lower() in {"quit", "exit", ":q"}:
            return 0
        if question.lower() == "new":
            history.clear()
            continue
        if not question:
            continue
        try:
            answer = engine.ask(question, as_of=args.as_of, history=history)
        except NewsdeskError as exc:
            print(f"error: {exc}")
            continue
        print(render_answer(answer))
        history = (history + [Turn(question, answer.text)])[-3:]


def cmd_start(args: argparse.Namespace, settings: Settings) -> int:
    if settings.discord_token:
        from bot.main import run

        return run(settings) or 0
    print("No DISCORD_TOKEN set: starting the terminal chat (see README to run the Discord bot).",
          file=sys.stderr)
    return cmd_chat(args, settings)


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    failures = 0
    targets = _expand(args.sources)
    for target in targets:
        try:
            if target.startswith(("http://", "https://")):
                result = engine.add_url(target)
            else:
                result = engine.add_path(Path(target), refresh=False)  # the next question rebuilds the keywords once
        except NewsdeskError as exc:
            failures += 1
            print(f"error: {target}: {exc}", file=sys.stderr)
            continue
        info = result.article
        verb = {"added": "Added", "replaced": "Updated", "unchanged": "Already there:"}[result.status]
        print(f"{verb} {info.id} {info.title!r} ({info.published or 'date unknown'}, {info.chunks} chunks)")
    return 1 if failures else 0


def _expand(sources: Sequence[str]) -> list[str]:
    from .articles import iter_seed_paths

    out: list[str] = []
    for source in sources:
        path = Path(source)
        out += [str(p) for p in iter_seed_paths(path)] if path.is_dir() else [source]
    return out


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    info = engine.remove(args.id)
    print(f"Removed {info.id} {info.title!r} ({info.chunks} chunks)")
    return 0


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    infos = engine.list_articles(args.search, args.limit)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2, ensure_ascii=False))
        return 0
    for info in infos:
        print(f"{info.id}  {info.published or '----------'}  {info.chunks:>3} chunks  {info.title}"
              + (f"  ({info.outlet})" if info.outlet else ""))
    print(f"{len(infos)} article(s)", file=sys.stderr)
    return 0


def cmd_rebuild(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    report = engine.rebuild(ProgressBar("Rebuilding"))
    print(f"Rebuilt {report.articles} articles / {report.chunks} chunks into {report.collection} in "
          f"{report.seconds:.1f} s ({report.embedded} embedded, {report.cached} from cache)")
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_engine(settings)
    status = engine.status()
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
        return 0
    for key, value in status.to_dict().items():
        print(f"{key:>12}: {value}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `newsdesk` command."""
    parser = argparse.ArgumentParser(prog="newsdesk", description="Answers questions about news articles, with cited passages.")
    parser.add_argument("--env-file", default=".env", help="settings file to read (default .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--as-of", type=_as_of, help="answer as of this date (YYYY-MM-DD; default today)")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=cmd_ask)

    for name, func, text in (("chat", cmd_chat, "ask questions interactively"),
                             ("start", cmd_start, "run the Discord bot when DISCORD_TOKEN is set, else the chat")):
        p = sub.add_parser(name, help=text)
        p.add_argument("--as-of", type=_as_of, help="answer as of this date (YYYY-MM-DD; default today)")
        p.set_defaults(func=func)

    p = sub.add_parser("add", help="add articles: files, folders or URLs")
    p.add_argument("sources", nargs="+", metavar="PATH|URL")
    p.set_defaults(func=cmd_add)

    p = sub.add_parser("remove", help="remove an article by id")
    p.add_argument("id")
    p.set_defaults(func=cmd_remove)

    p = sub.add_parser("list", help="list the articles")
    p.add_argument("--search", help="only articles whose title, outlet, id or URL contain this")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("rebuild", help="re-index every article into a fresh collection")
    p.set_defaults(func=cmd_rebuild)

    p = sub.add_parser("status", help="what the index holds and how it is set up")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)

    try:
        from . import eval as evaluation
    except ImportError:
        evaluation = None
    if evaluation is not None and hasattr(evaluation, "register"):
        evaluation.register(sub)
    return parser


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in the form YYYY-MM-DD") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: read .env and the environment once, run a subcommand, translate errors to exit codes."""
    args = build_parser().parse_args(argv)
    from dotenv import load_dotenv

    load_dotenv(args.env_file, override=False)
    os.environ.setdefault("TQDM_DISABLE", "1")  # library progress bars would garble ours
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: bad setting: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.DEBUG if args.verbose else getattr(logging, settings.log_level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "httpx", "bm25s", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return args.func(args, settings)
    except NewsdeskError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
