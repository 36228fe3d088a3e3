"""Each server's settings, owned by the bot and stored by the engine as JSON: where the bot answers, the ask
channel, private answers, the roles that may add articles or moderate, the daily digest. Cached in memory and
replaced on every change, so that a change takes effect at once, without a restart."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, replace
from datetime import time
from typing import TYPE_CHECKING, Any

import discord

from .checks import Refused

if TYPE_CHECKING:
    from .app import NewsdeskBot

_MENTION = re.compile(r"<(#|@&)(\d+)>|(\d{15,21})")
TEXTUAL = (discord.TextChannel, discord.ForumChannel)


@dataclass(frozen=True)
class ServerConfig:
    """One server's settings; None for the roles means the defaults of DISCORD_ADD_ROLE / DISCORD_MODERATOR_ROLE."""

    channels: tuple[int, ...] = ()  # where the bot answers; empty: every channel
    ask_channel: int | None = None  # every new message or post there is a question
    private: bool = False  # /ask answers visible to the asker only (unless /ask private:false)
    add_roles: tuple[int, ...] | None = None  # () : everyone may add articles
    moderator_roles: tuple[int, ...] | None = None
    digest_channel: int | None = None
    digest_time: str | None = None  # "HH:MM", UTC
    extra: dict = field(default_factory=dict, compare=False)  # keys another version wrote: kept as they are

    @classmethod
    def from_json(cls, data: dict) -> ServerConfig:
        """The settings as stored (unknown keys kept, wrong types read as the default)."""

        def ids(key: str) -> tuple[int, ...] | None:
            value = data.get(key)
            return tuple(int(v) for v in value if str(v).isdigit()) if isinstance(value, list) else None

        def one(key: str) -> int | None:
            value = data.get(key)
            return int(str(value)) if str(value or "").isdigit() else None

        known = {f for f in cls.__dataclass_fields__ if f != "extra"}
        return cls(
            channels=ids("channels") or (),
            ask_channel=one("ask_channel"),
            private=data.get("private") is True,
            add_roles=ids("add_roles"),
            moderator_roles=ids("moderator_roles"),
            digest_channel=one("digest_channel"),
            digest_time=data.get("digest_time") if isinstance(data.get("digest_time"), str) else None,
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_json(self) -> dict:
        """The settings as stored (ids as strings: JSON numbers lose snowflakes' precision in other readers)."""
        data = {k: v for k, v in asdict(self).items() if k != "extra"}
        for key in ("channels", "add_roles", "moderator_roles"):
            if data[key] is not None:
                data[key] = [str(v) for v in data[key]]
        for key in ("ask_channel", "digest_channel"):
            if data[key] is not None:
                data[key] = str(data[key])
        return {**self.extra, **data}

    def answers_in(self, channel: Any) -> bool:
        """True where the bot answers: every channel, or the listed ones (and their threads), and the ask channel."""
        if not self.channels:
            return True
        allowed = set(self.channels) | ({self.ask_channel} if self.ask_channel else set())
        return bool(_ids(channel) & allowed)

    def is_ask_channel(self, channel: Any) -> bool:
        """True in the ask channel and its threads (forum posts)."""
        return self.ask_channel is not None and self.ask_channel in _ids(channel)

    def digest_at(self) -> time | None:
        """The digest's time of day (UTC), when a digest is set."""
        if self.digest_channel is None or not self.digest_time:
            return None
        return parse_time(self.digest_time)


def _ids(channel: Any) -> set[int]:
    """A channel's id and, for a thread, its parent's."""
    return {i for i in (getattr(channel, "id", None), getattr(channel, "parent_id", None)) if i is not None}


def parse_time(text: str) -> time:
    """'HH:MM' (24-hour, UTC); Refused otherwise."""
    match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})\s*(?:UTC)?\s*", text or "", re.I)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise Refused(f"{text[:20]!r} is not a time: give it as HH:MM in UTC, e.g. 07:30.")
    return time(int(match.group(1)), int(match.group(2)))


class ServerConfigs:
    """The settings of every server the bot is in, read once from the engine, replaced when changed."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot
        self._cache: dict[int, ServerConfig] = {}

    async def get(self, guild_id: int | None) -> ServerConfig:
        """A server's settings (the defaults outside servers)."""
        if guild_id is None:
            return ServerConfig()
        found = self._cache.get(guild_id)
        if found is None:
            data = await self.bot.run_engine(self.bot.engine.get_server_config, str(guild_id), lane="quick")
            found = self._cache[guild_id] = ServerConfig.from_json(data)
        return found

    async def set(self, guild_id: int, config: ServerConfig) -> ServerConfig:
        """Store a server's settings; they apply from the next message or command."""
        await self.bot.run_engine(self.bot.engine.set_server_config, str(guild_id), config.to_json(), lane="quick")
        self._cache[guild_id] = config
        return config


def resolve_channels(guild: discord.Guild, bot: discord.Client, text: str) -> tuple[int, ...]:
    """Channel mentions, ids or names in text, as channels of this server; Refused naming any that is not."""
    whole = _by_name(guild.channels, text.strip().lstrip("#"))
    if isinstance(whole, TEXTUAL):
        return (whole.id,)
    out = []
    for token, ident in _tokens(text):
        channel = guild.get_channel(ident) if ident else _by_name(guild.channels, token.lstrip("#"))
        if channel is None:
            raise Refused(
                _foreign(bot, ident, token, "channel")
                if ident
                else f"This server has no channel named {token[:50]!r}; nothing was changed."
            )
        if not isinstance(channel, TEXTUAL):
            raise Refused(f"#{channel.name} is not a text or forum channel; nothing was changed.")
        out.append(channel.id)
    return tuple(dict.fromkeys(out))


def resolve_roles(guild: discord.Guild, bot: discord.Client, text: str) -> tuple[int, ...]:
    """Role mentions, ids or names in text, as roles of this server; Refused naming any that is not."""
    whole = _by_name(guild.roles, text.strip().lstrip("@"))  # one name with spaces: "@Night Desk"
    if whole is not None:
        return (whole.id,)
    out = []
    for token, ident in _tokens(text):
        role = guild.get_role(ident) if ident else _by_name(guild.roles, token.lstrip("@"))
        if role is None:
            raise Refused(
                _foreign(bot, ident, token, "role")
                if ident
                else f"This server has no role named {token[:50]!r}; nothing was changed."
            )
        out.append(role.id)
    return tuple(dict.fromkeys(out))


def _tokens(text: str) -> list[tuple[str, int | None]]:
    """(token, id when it is a mention or an id) of a list separated by spaces or commas; names may be quoted."""
    out: list[tuple[str, int | None]] = []
    for part in re.findall(r'"[^"]+"|[^\s,]+', text):
        match = _MENTION.fullmatch(part)
        ident = int(match.group(2) or match.group(3)) if match else None
        out.append((part.strip('"'), ident))
    return out


def _by_name(items: Iterable[Any], name: str) -> Any:
    wanted = name.casefold()
    return next((i for i in items if getattr(i, "name", "").casefold() == wanted), None)


def _foreign(bot: discord.Client, ident: int | None, token: str, kind: str) -> str:
    """The refusal for an id that is not this server's: says so when it is another server's."""
    if kind == "channel":
        elsewhere = ident is not None and bot.get_channel(ident) is not None
    else:
        elsewhere = ident is not None and any(g.get_role(ident) is not None for g in bot.guilds)
    if elsewhere:
        return (
            f"That {kind} ({token[:40]}) belongs to another server. Name {kind}s of this server only; "
            "nothing was changed."
        )
    return f"{token[:40]} is not a {kind} of this server; nothing was changed."


def with_changes(config: ServerConfig, **changes: Any) -> ServerConfig:
    """A copy with the given settings changed."""
    return replace(config, **changes)
