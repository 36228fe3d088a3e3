"""Servers and users as the engine knows them."""

from __future__ import annotations

import discord


def server_key(guild_id: int | None) -> str | None:
    """The engine's server id of a Discord server (None outside servers: the shared corpus)."""
    return str(guild_id) if guild_id is not None else None


def user_key(user: discord.abc.Snowflake) -> str:
    """A Discord user as the engine records them (it hashes askers; adders are shown to moderators)."""
    return f"discord:{user.id}"
