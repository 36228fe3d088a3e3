"""Entry point used by `newsdesk start`: run the Discord bot until interrupted."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import discord

from index import Embedder, Engine, Settings

from .app import NewsdeskBot
from .settings import DiscordSettings

log = logging.getLogger("newsdesk.bot")
BAD_TOKEN = (
    "Discord rejected DISCORD_TOKEN. Copy the bot token again from the Developer Portal "
    "(your application → Bot → Reset Token) into .env and restart."
)


def run(
    settings: Settings,
    discord_settings: DiscordSettings,
    *,
    engine: Engine | None = None,
    embed_model: Embedder | None = None,
    **options: Any,
) -> int:
    """Run the bot (blocking); returns 0 after a clean stop, raises SystemExit with a clear message on a bad token."""
    if not discord_settings.token:
        raise SystemExit("DISCORD_TOKEN is not set; see docs/discord.md to create a bot and get one.")
    if not logging.getLogger().handlers:
        logging.basicConfig(
            level=settings.log_level.upper(), format="%(asctime)s %(levelname)-7s %(name)s: %(message)s"
        )
    own_engine = engine is None
    if engine is None:
        engine = Engine.open(settings, embed_model=embed_model)
    try:
        NewsdeskBot(discord_settings, engine, **options).run(discord_settings.token, log_handler=None)
    except discord.LoginFailure:
        raise SystemExit(BAD_TOKEN) from None
    except (aiohttp.ClientConnectionError, OSError) as exc:
        raise SystemExit(f"Cannot reach Discord ({exc}). Check the network connection and try again.") from None
    finally:
        if own_engine:
            engine.close()
    return 0
