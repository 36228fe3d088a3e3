"""What the fake Discord knows (guilds, channels, roles, members, messages, commands): one model read by all parts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .payloads import EPHEMERAL, TEXT, FakeFile, FakeUser, channel, guild, message, role, snowflake

if TYPE_CHECKING:
    from .server import FakeInteraction


@dataclass
class Guild:
    """One server: its roles (@everyone first), channels and threads by id, and members."""

    id: str
    name: str
    owner: FakeUser
    roles: list[dict] = field(default_factory=list)
    channels: dict[str, dict] = field(default_factory=dict)
    members: list[FakeUser] = field(default_factory=list)

    def add_role(self, name: str, permissions: int, position: int = 1) -> dict:
        """A new role."""
        self.roles.append(new := role(snowflake(), name, permissions, position))
        return new

    def add_channel(self, name: str, kind: int = TEXT, channel_id: str | None = None, **extra: Any) -> dict:
        """A new channel (or thread, kind 11, with `parent_id` among `extra`)."""
        new = channel(channel_id or snowflake(), self.id, name, kind, **extra)
        self.channels[new["id"]] = new
        return new

    def add_member(self, user: FakeUser) -> FakeUser:
        """Make `user` a member (their roles and permissions are those in this guild)."""
        self.members.append(user)
        return user

    def payload(self) -> dict:
        """The GUILD_CREATE payload."""
        return guild(self.id, self.name, self.owner, self.roles, list(self.channels.values()), self.members)


class World:
    """The application and its bot user, the guilds it is in, and everything sent so far."""

    def __init__(self, token: str) -> None:
        self.token = token
        self.app_id = snowflake()
        self.bot_user = FakeUser(snowflake(), "Newsdesk", bot=True)
        self.guilds: dict[str, Guild] = {}
        self.messages: dict[str, list[dict]] = defaultdict(list)  # by channel (or thread) id, oldest first
        self.interactions: dict[str, FakeInteraction] = {}
        self.files: dict[str, FakeFile] = {}
        self.commands: dict[str, dict] = {}  # by name, as last synced (globally or to a guild)

    def add_guild(self, name: str, owner: str = "owner") -> Guild:
        """A new guild with an owner, an @everyone role, and the bot as a member."""
        new = Guild(snowflake(), name, FakeUser(snowflake(), owner))
        new.roles.append(role(new.id, "@everyone", new.owner.permissions, 0))
        new.members += [new.owner, self.bot_user]
        self.guilds[new.id] = new
        return new

    def channel(self, channel_id: str) -> dict | None:
        """A channel or thread of any guild."""
        return next((g.channels[channel_id] for g in self.guilds.values() if channel_id in g.channels), None)

    def guild_of(self, channel_id: str) -> Guild | None:
        """The guild a channel or thread belongs to."""
        return next((g for g in self.guilds.values() if channel_id in g.channels), None)

    def post(self, channel_id: str, author: FakeUser, payload: dict, **extra: Any) -> dict:
        """A new message in a channel (kept in its history unless ephemeral)."""
        owner = self.guild_of(channel_id)
        msg = message(channel_id, owner.id if owner else None, author, payload, **extra)
        if not msg["flags"] & EPHEMERAL:
            self.messages[channel_id].append(msg)
        return msg

    def find_message(self, channel_id: str, message_id: str) -> dict | None:
        """A message in a channel's history."""
        return next((m for m in self.messages[channel_id] if m["id"] == message_id), None)

    def interaction(self, token: str) -> FakeInteraction | None:
        """The interaction an interaction token belongs to."""
        return next((ix for ix in self.interactions.values() if ix.token == token), None)
