"""Entry point used by `newsdesk start`: run the Discord bot until interrupted."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from index.engine import Engine
from index.settings import Settings

from .app import NewsdeskBot

log = logging.getLogger("newsdesk.bot")
BAD_TOKEN = ("Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal "
             "(your application → Bot → Reset Token) into .env and restart.")


def run(settings: Settings, engine: Engine | None = None, **options: Any) -> int:
    """Run the bot (blocking); returns 0 after a clean stop, raises SystemExit with a clear message on a bad token."""
    if not settings.discord_token:
        raise SystemExit("DISCORD_TOKEN is not set; see docs/discord.md to create a bot and get one.")
    if not logging.getLogger().handlers:
        logging.basicConfig(level=settings.log_level.upper(),
                            format="%(asctime)s %(levelname)-7s %(name)s: %(message)s")
    own_engine = engine is None
    if engine is None:
        engine = Engine(settings)
        added = engine.ensure_seeded()
        if added:
            log.info("Seeded the index with %d articles from %s", added, settings.seeds_dir)
        if engine.needs_rebuild():
            log.info("The index was built with another embedding model or chunking; rebuilding before start")
            report = engine.rebuild()
            log.info("Rebuilt %d articles (%d chunks) in %.1f s", report.articles, report.chunks, report.seconds)
    try:
        NewsdeskBot(settings, engine, **options).run(settings.discord_token, log_handler=None)
    except discord.LoginFailure:
        raise SystemExit(BAD_TOKEN) from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise SystemExit(f"Cannot reach Discord ({exc}). Check the network connection and try again.") from None
    finally:
        if own_engine:
            engine.close()
    return 0
