"""Entry point of `newsdesk`: the argument parser, settings read once, errors turned into exit codes."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from index import Embedder, NewsdeskError, Settings

from . import commands
from .output import printable

log = logging.getLogger("newsdesk")
SERVER_HELP = "the server (e.g. a Discord server id) whose corpus to use; default: the shared corpus"
CORPUS_COMMANDS = ("chat", "ask", "add", "remove", "list", "rebuild", "status", "stats", "share", "unshare", "import")
FEED_COMMANDS = ("add", "remove", "list")  # a server's own feeds (poll polls every server's)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `newsdesk` command."""
    parser = argparse.ArgumentParser(
        prog="newsdesk", description="Answers questions about news articles, with cited passages."
    )
    parser.add_argument("--env-file", default=".env", help="settings file to read (default .env)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    as_of_help = "answer as of this date (YYYY-MM-DD; default today)"

    p = sub.add_parser("chat", help="ask questions interactively; follow-ups keep the conversation")
    p.add_argument("--as-of", type=commands.as_of_date, help=as_of_help)
    p.set_defaults(func=commands.cmd_chat)

    p = sub.add_parser("ask", help="answer one question")
    p.add_argument("question")
    p.add_argument("--as-of", type=commands.as_of_date, help=as_of_help)
    p.add_argument("--json", action="store_true", help="print the answer as JSON")
    p.set_defaults(func=commands.cmd_ask)

    p = sub.add_parser("add", help="add articles: files (.txt .md .html .pdf), folders of them, or web pages")
    p.add_argument("sources", nargs="+", metavar="PATH|URL")
    p.set_defaults(func=commands.cmd_add)

    p = sub.add_parser("remove", help="remove an article and all its chunks")
    p.add_argument("id")
    p.set_defaults(func=commands.cmd_remove)

    p = sub.add_parser("list", help="the articles, newest first")
    p.add_argument("--search", help="only articles whose title, outlet, id or URL contain this")
    p.add_argument("--limit", type=int)
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.add_argument("--removed", action="store_true", help="the articles removed, by whom and when, instead")
    p.set_defaults(func=commands.cmd_list)

    p = sub.add_parser("rebuild", help="re-index everything into a fresh collection; the old one answers meanwhile")
    p.set_defaults(func=commands.cmd_rebuild)

    p = sub.add_parser("status", help="articles, chunks, store, embedding model")
    p.add_argument("--json", action="store_true", help="print the status as JSON")
    p.set_defaults(func=commands.cmd_status)

    p = sub.add_parser(
        "import",
        help="import a JSONL(.gz) file of articles (url, title, published, authors, body "
        "a line); an interrupted import resumes when run again",
    )
    p.add_argument("file", type=Path, metavar="FILE")
    p.set_defaults(func=commands.cmd_import)

    feeds = sub.add_parser("feeds", help="follow RSS/Atom feeds and news sitemaps: add, remove, list, poll")
    fsub = feeds.add_subparsers(dest="feeds_command", required=True, metavar="ACTION")
    p = fsub.add_parser("add", help="follow a feed or sitemap (it is read once to check it)")
    p.add_argument("url", metavar="URL")
    p.set_defaults(func=commands.cmd_feeds_add)
    p = fsub.add_parser("remove", help="stop following a feed (its articles stay)")
    p.add_argument("feed", metavar="ID|URL")
    p.set_defaults(func=commands.cmd_feeds_remove)
    p = fsub.add_parser("list", help="the feeds: title, last poll, items added, last error")
    p.add_argument("--json", action="store_true", help="print the list as JSON")
    p.set_defaults(func=commands.cmd_feeds_list)
    p = fsub.add_parser("poll", help="poll every feed now and add the new items; then fetch young articles again")
    p.add_argument("--due", action="store_true", help="only the feeds whose next poll is due")
    p.set_defaults(func=commands.cmd_feeds_poll)

    p = sub.add_parser("start", help="the Discord bot when DISCORD_TOKEN is set, else the chat")
    p.add_argument("--as-of", type=commands.as_of_date, help=as_of_help)
    p.set_defaults(func=commands.cmd_start)

    from bench.cli import register

    from .community import register as register_community

    register(sub)
    register_community(sub)
    for name in CORPUS_COMMANDS:  # each acts on one corpus, named before or after the command
        sub.choices[name].add_argument("--server", metavar="ID", default=argparse.SUPPRESS, help=SERVER_HELP)
    for name in FEED_COMMANDS:
        fsub.choices[name].add_argument("--server", metavar="ID", default=argparse.SUPPRESS, help=SERVER_HELP)
    parser.add_argument("--server", metavar="ID", help=SERVER_HELP)
    return parser


def main(
    argv: Sequence[str] | None = None, *, embed_model: Embedder | None = None, input_fn: commands.InputFn | None = None
) -> int:
    """Read .env and the environment once, run a subcommand, translate errors to exit codes."""
    args = build_parser().parse_args(argv)
    from dotenv import load_dotenv

    load_dotenv(args.env_file, override=False)
    os.environ.setdefault("TQDM_DISABLE", "1")  # library progress bars would garble ours
    try:
        settings = Settings.from_env()
    except ValueError as exc:
        print(f"error: bad setting: {printable(str(exc))}", file=sys.stderr)
        return 2
    level = logging.DEBUG if args.verbose else getattr(logging, settings.log_level.upper(), logging.INFO)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "httpx", "bm25s", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx = commands.Context(settings, embed_model=embed_model, input_fn=input_fn or input)
    try:
        code: int = args.func(args, ctx)
        sys.stdout.flush()
        return code
    except NewsdeskError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader (e.g. `| head`) went away: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
