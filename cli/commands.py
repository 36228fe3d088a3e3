"""The subcommands of `newsdesk`: each opens the engine through the one start-up path and prints its result."""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from index import (
    HISTORY_TURNS,
    Embedder,
    Engine,
    FeedInfo,
    FeedReport,
    InvalidInput,
    NewsdeskError,
    Settings,
    Turn,
    iter_article_paths,
    parse_iso_date,
)

from .community import print_removed, provenance
from .output import ProgressBar, printable, render_answer

InputFn = Callable[[str], str]


@dataclass
class Context:
    """What every command is given: the settings read once by main, and what tests inject."""

    settings: Settings
    embed_model: Embedder | None = None
    input_fn: InputFn = input
    progress: Callable[[str], Callable[[int, int], None]] = ProgressBar

    def open_engine(self) -> Engine:
        """The engine, opened (seeded and rebuilt when needed) with progress on stderr."""
        return Engine.open(self.settings, embed_model=self.embed_model, progress=ProgressBar)


def actor() -> str:
    """Who the terminal's changes are recorded as."""
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:
        return "cli"


def as_of_date(text: str) -> date:
    """argparse type for --as-of."""
    try:
        return parse_iso_date(text, "as-of date")
    except InvalidInput as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_ask(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    answer = engine.ask(args.question, as_of=args.as_of, server=args.server)
    print(json.dumps(answer.to_dict(), indent=2, ensure_ascii=False) if args.json else render_answer(answer))
    return 0


def cmd_chat(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    count = len(engine.list_articles(server=args.server))
    print(
        f"Newsdesk: ask about the {count} article(s) in the index. Follow-ups keep the conversation; "
        "'new' starts over, 'quit' (or Ctrl-D) leaves."
    )
    history: list[Turn] = []
    while True:
        try:
            question = ctx.input_fn("\n> ").strip()
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
            answer = engine.ask(question, as_of=args.as_of, history=history, server=args.server)
        except NewsdeskError as exc:
            print(f"error: {printable(str(exc))}")
            continue
        print(render_answer(answer))
        history = (history + [Turn(question, answer.text)])[-HISTORY_TURNS:]


def cmd_start(args: argparse.Namespace, ctx: Context) -> int:
    from bot.main import run
    from bot.settings import DiscordSettings

    discord = DiscordSettings.from_env()
    if discord.token:
        return run(ctx.settings, discord, embed_model=ctx.embed_model)
    print("No DISCORD_TOKEN set: starting the terminal chat (see README to run the Discord bot).", file=sys.stderr)
    return cmd_chat(args, ctx)


def cmd_add(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    failures = 0
    for target in _expand(args.sources):
        try:
            if target.startswith(("http://", "https://")):
                result = engine.add_url(target, server=args.server, actor=actor())
            else:
                result = engine.add_path(Path(target), server=args.server, actor=actor())
        except NewsdeskError as exc:
            failures += 1
            print(f"error: {printable(target[:300])}: {printable(str(exc))}", file=sys.stderr)
            continue
        info = result.article
        verb = {"added": "Added", "replaced": "Updated", "unchanged": "Already there:"}[result.status]
        print(
            printable(
                f"{verb} {info.id} {info.title!r} ({info.published or 'date unknown'}, "
                f"{info.chunks} chunk{'s' * (info.chunks != 1)})"
            )
        )
    return 1 if failures else 0


def _expand(sources: Sequence[str]) -> list[str]:
    out: list[str] = []
    for source in sources:
        if source.startswith(("http://", "https://")):
            out.append(source)
            continue
        try:
            is_dir = Path(source).is_dir()
        except OSError:  # e.g. a name too long to be a path: reading it reports the error
            is_dir = False
        out += [str(p) for p in iter_article_paths(Path(source))] if is_dir else [source]
    return out


def cmd_remove(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    info = engine.remove(args.id, server=args.server, actor=actor())
    print(printable(f"Removed {info.id} {info.title!r} ({info.chunks} chunk{'s' * (info.chunks != 1)})"))
    return 0


def cmd_list(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    if args.removed:
        return print_removed(engine, args)
    infos = engine.list_articles(args.search, args.limit, server=args.server)
    if args.json:
        print(json.dumps([i.to_dict() for i in infos], indent=2, ensure_ascii=False))
        return 0
    for info in infos:
        print(
            printable(
                f"{info.id}  {info.published or '----------'}  {info.chunks:>3} chunks  {info.title}"
                + (f"  ({info.outlet})" if info.outlet else "")
                + provenance(info, args.server)
            )
        )
    print(f"{len(infos)} article(s)", file=sys.stderr)
    return 0


def cmd_rebuild(args: argparse.Namespace, ctx: Context) -> int:
    engine = Engine.open(ctx.settings, embed_model=ctx.embed_model, progress=ctx.progress, repair=True)
    if args.server is not None:
        report = engine.rebuild_server(args.server, ProgressBar("Rebuilding"))
    else:
        report = engine.rebuild(ProgressBar("Rebuilding"))
    print(
        f"Rebuilt {report.articles} articles / {report.chunks} chunks into {report.collection} in "
        f"{report.seconds:.1f} s ({report.embedded} embedded, {report.cached} from cache)"
    )
    return 0


def cmd_status(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    status = engine.status(server=args.server)
    if args.json:
        print(json.dumps(status.to_dict(), indent=2))
        return 0
    for key, value in status.to_dict().items():
        print(printable(f"{key:>12}: {value}"))
    return 0


def cmd_import(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    report = engine.import_jsonl(args.file, ctx.progress("Importing"), server=args.server, actor=actor())
    name = printable(str(args.file))
    if report.already_done:
        print(f"{name} was imported before ({report.lines} lines); nothing to do.")
        return 0
    resumed = f", resumed at line {report.resumed_at}" if report.resumed_at else ""
    print(
        f"Imported {name}: {report.added} added, {report.unchanged} already there, "
        f"{report.failed} line(s) refused{resumed}."
    )
    for error in report.errors[:MAX_SHOWN]:
        print(printable(f"error: line {error.line}: {error.error}"), file=sys.stderr)
    if report.failed > MAX_SHOWN:
        print(f"… and {report.failed - MAX_SHOWN} more refused lines", file=sys.stderr)
    return 1 if report.failed else 0


MAX_SHOWN = 20  # errors listed per command


def describe_feed(feed: FeedInfo) -> str:
    """One line: id, title, URL, last and next poll, items added, last error."""

    def when(moment: datetime | None) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"

    shared = "" if feed.server else " (shared)"
    text = (
        f"{feed.id:>3}  {feed.name}{shared}  <{feed.url}>  last poll {when(feed.last_poll)}, next "
        f"{when(feed.next_poll) if feed.next_poll else 'now'}, {feed.items_added} item(s) added"
    )
    if feed.last_error:
        text += f", {feed.failures} failure(s) in a row, last error: {feed.last_error}"
    return printable(text)


def cmd_feeds_add(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    feed = engine.add_feed(args.url, server=args.server)
    print(
        printable(
            f"Following feed {feed.id}: {feed.name} <{feed.url}>. `newsdesk feeds poll` (or the bot, "
            "while it runs) adds its items."
        )
    )
    return 0


def cmd_feeds_remove(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    feed = engine.remove_feed(args.feed, server=args.server)
    print(printable(f"Stopped following feed {feed.id}: {feed.name} <{feed.url}> (its articles stay)."))
    return 0


def cmd_feeds_list(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()
    feeds = engine.list_feeds(server=args.server)
    if args.json:
        print(json.dumps([f.to_dict() for f in feeds], indent=2, ensure_ascii=False))
        return 0
    for feed in feeds:
        print(describe_feed(feed))
    print(f"{len(feeds)} feed(s)", file=sys.stderr)
    return 0


def cmd_feeds_poll(args: argparse.Namespace, ctx: Context) -> int:
    engine = ctx.open_engine()

    def show(report: FeedReport) -> None:
        name = report.feed.name
        if report.error:
            print(printable(f"{name}: failed: {report.error}"))
            return
        state = "not modified" if report.not_modified else f"{len(report.added)} added, {len(report.failed)} failed"
        print(printable(f"{name}: {state}" + (" (more next poll)" if report.more else "")))
        for info in report.added:
            print(printable(f"  + {info.id} {info.title!r} ({info.published or 'date unknown'})"))
        for item in report.failed[:MAX_SHOWN]:
            print(printable(f"  ! {item.url}: {item.error}"))
        for warning in report.warnings:
            print(printable(f"  ? {warning}"))

    reports = engine.poll_feeds(ctx.progress("Polling feeds"), every=not args.due, on_feed=show)
    refreshed = engine.refresh_recent()
    for info in refreshed.updated:
        print(printable(f"Updated {info.id} {info.title!r}"))
    broken = sum(1 for r in reports if r.error)
    print(
        f"{len(reports)} feed(s) polled: {sum(len(r.added) for r in reports)} article(s) added, "
        f"{sum(len(r.failed) for r in reports)} item(s) failed, {broken} feed(s) failed; "
        f"{refreshed.checked} recent article(s) checked, {len(refreshed.updated)} updated.",
        file=sys.stderr,
    )
    return 1 if broken else 0
