"""The commands for servers' corpora and records: stats, share and unshare; who added and removed articles."""

from __future__ import annotations

import argparse
import json
from typing import Any

from index import ArticleInfo, Engine

from .output import printable


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `stats`, `share` and `unshare` subcommands."""
    p = subparsers.add_parser("stats", help="questions per day, not-covered rate, coverage gaps, worst-rated answers")
    p.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_stats)

    p = subparsers.add_parser("share", help="move an article of a server's corpus (--server) to the shared corpus")
    p.add_argument("id")
    p.set_defaults(func=cmd_share)

    p = subparsers.add_parser("unshare", help="give a shared article back to the server it was added in (--server)")
    p.add_argument("id")
    p.set_defaults(func=cmd_unshare)


def provenance(info: ArticleInfo, server: str | None) -> str:
    """'  [shared] added by …' as listed: the corpus when it is not the one listed, and who added it."""
    parts = []
    if server is not None and info.server is None:
        parts.append("[shared]")
    if info.moderation:
        parts.append(f"[{info.moderation}]")
    if info.added_by:
        parts.append(f"added by {info.added_by}")
    return "  " + " ".join(parts) if parts else ""


def print_removed(engine: Engine, args: argparse.Namespace) -> int:
    """The articles removed from the corpus, newest first, with who removed them."""
    events = engine.article_history(server=args.server, limit=args.limit or 50)
    if args.json:
        print(
            json.dumps(
                [{"id": e.article_id, "title": e.title, "removed_by": e.actor, "at": e.at.isoformat()} for e in events],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    for e in events:
        print(printable(f"{e.article_id}  {e.at:%Y-%m-%d %H:%M}  removed by {e.actor or 'unknown'}  {e.title}"))
    return 0


def cmd_stats(args: argparse.Namespace, ctx: Any) -> int:
    engine = ctx.open_engine()
    stats = engine.stats(args.server, days=args.days)
    if args.json:
        print(json.dumps(stats, indent=2, ensure_ascii=False))
        return 0
    print(
        printable(
            f"{stats['questions']} question(s) in {stats['days']} day(s) since {stats['since']}; "
            f"not covered: {stats['not_covered']} ({stats['not_covered_rate']:.0%})"
            + ("" if stats["logging"] else " (the question log is off: NEWSDESK_QUESTION_LOG_DAYS=0)")
        )
    )
    for day in stats["per_day"]:
        print(f"  {day['day']}  {day['questions']:>5} asked  {day['not_covered']:>5} not covered")
    if stats["gaps"]:
        print("Coverage gaps:")
    for gap in stats["gaps"]:
        print(printable(f"  {gap['count']:>3} × {', '.join(gap['terms'])}: {gap['questions'][0]}"))
    if stats["worst_rated"]:
        print("Worst-rated answers:")
    for worst in stats["worst_rated"]:
        reasons = ", ".join(f"{r} ×{n}" for r, n in worst["reasons"].items()) or "no reason given"
        print(printable(f"  👎 {worst['down']} 👍 {worst['up']}  {worst['question']}  ({reasons})"))
    return 0


def cmd_share(args: argparse.Namespace, ctx: Any) -> int:
    from .commands import actor

    engine = ctx.open_engine()
    info = engine.share(args.id, server=args.server, actor=actor())
    print(printable(f"Shared {info.id} {info.title!r} with every server"))
    return 0


def cmd_unshare(args: argparse.Namespace, ctx: Any) -> int:
    from .commands import actor

    engine = ctx.open_engine()
    info = engine.unshare(args.id, server=args.server, actor=actor())
    print(printable(f"{info.id} {info.title!r} is now in server {info.server}'s corpus only"))
    return 0
