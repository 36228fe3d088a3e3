"""The Discord face's own settings (DISCORD_*), read from the environment by the entry point."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from index import from_environment


@dataclass(frozen=True)
class DiscordSettings:
    """What the bot needs beyond the engine's settings; the keys are documented in .env.example."""

    token: str | None = None
    guild_id: int | None = None
    add_role: str | None = None
    moderator_role: str | None = None
    ask_per_minute: int = 6
    add_per_minute: int = 3
    message_content: bool = False  # the Message Content intent: needed for an ask channel (no mention)
    digest_check_seconds: float = 60.0  # how often the due digests are looked for

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> DiscordSettings:
        """Build the settings from DISCORD_* environment variables."""
        return from_environment(cls, env_key, environ)


def env_key(name: str) -> str:
    """The environment variable of a setting: DISCORD_<NAME>."""
    return "DISCORD_" + name.upper()
