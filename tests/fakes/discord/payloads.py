"""Discord's JSON shapes: ids, responses, users and files, and builders for guilds, channels, messages, interactions."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

_ids = itertools.count(1)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MANAGE_GUILD = 1 << 5
# view channels, send messages, embed links, read history, create and send in threads
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)
TEXT, PUBLIC_THREAD = 0, 11  # channel types


def snowflake() -> str:
    """A new, unique, realistic (19-digit) snowflake id."""
    ms = int(datetime.now(UTC).timestamp() * 1000) - 1420070400000
    return str((ms << 22) | (next(_ids) & 0x3FFFFF))


def now_iso() -> str:
    """The current time as Discord formats it."""
    return datetime.now(UTC).isoformat()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly application/json (discord.py insists)."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json", **(headers or {})}
    )


def error_response(status: int, code: int, message: str, errors: dict | None = None) -> web.Response:
    """Discord's error body, with the nested `errors` shape when given."""
    body: dict[str, Any] = {"code": code, "message": message}
    if errors:
        body["errors"] = errors
    return json_response(body, status)


@dataclass
class FakeUser:
    """A user and, in the fake guild, their member record."""

    id: str
    name: str
    bot: bool = False
    roles: list[str] = field(default_factory=list)
    permissions: int = MEMBER_PERMISSIONS

    def user(self) -> dict:
        """The user object."""
        return {
            "id": self.id,
            "username": self.name,
            "global_name": self.name,
            "discriminator": "0",
            "avatar": None,
            "bot": self.bot,
            "public_flags": 0,
        }

    def member(self, with_user: bool = True) -> dict:
        """The guild member object (with `permissions` as interactions carry it)."""
        data = {
            "roles": list(self.roles),
            "joined_at": now_iso(),
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
            "avatar": None,
            "pending": False,
            "permissions": str(self.permissions),
        }
        if with_user:
            data["user"] = self.user()
        return data


@dataclass
class FakeFile:
    """An attachment the fake serves at its url."""

    filename: str
    data: bytes
    content_type: str | None = "text/plain"
    id: str = field(default_factory=snowflake)
    size: int | None = None

    def payload(self, base: str) -> dict:
        """The attachment object, as in an interaction's resolved data."""
        url = f"{base}/files/{self.id}/{self.filename}"
        out = {
            "id": self.id,
            "filename": self.filename,
            "size": len(self.data) if self.size is None else self.size,
            "url": url,
            "proxy_url": url,
        }
        if self.content_type:
            out["content_type"] = self.content_type
        return out


def channel(channel_id: str, guild_id: str, name: str, kind: int = TEXT, **extra: Any) -> dict:
    """A guild channel (0 = text, 11 = public thread)."""
    return {
        "id": channel_id,
        "guild_id": guild_id,
        "name": name,
        "type": kind,
        "position": 0,
        "permission_overwrites": [],
        "nsfw": False,
        "parent_id": None,
        "topic": None,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        **extra,
    }


def guild(
    guild_id: str, name: str, owner: FakeUser, roles: list[dict], channels: list[dict], members: list[FakeUser]
) -> dict:
    """The GUILD_CREATE payload."""
    return {
        "id": guild_id,
        "name": name,
        "owner_id": owner.id,
        "unavailable": False,
        "large": False,
        "member_count": len(members),
        "roles": roles,
        "channels": channels,
        "threads": [],
        "members": [m.member() for m in members],
        "emojis": [],
        "stickers": [],
        "features": [],
        "voice_states": [],
        "presences": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
        "joined_at": now_iso(),
        "icon": None,
        "splash": None,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "mfa_level": 0,
        "premium_tier": 0,
        "preferred_locale": "en-US",
        "system_channel_flags": 0,
        "nsfw_level": 0,
    }


def role(role_id: str, name: str, permissions: int, position: int = 1) -> dict:
    """A role object."""
    return {
        "id": role_id,
        "name": name,
        "permissions": str(permissions),
        "position": position,
        "color": 0,
        "hoist": False,
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def message(channel_id: str, guild_id: str | None, author: FakeUser, payload: dict, **extra: Any) -> dict:
    """A message object built from what a client sent (content, embeds, flags...)."""
    data = {
        "id": snowflake(),
        "channel_id": channel_id,
        "author": author.user(),
        "timestamp": now_iso(),
        "content": payload.get("content") or "",
        "embeds": payload.get("embeds") or [],
        "components": payload.get("components") or [],
        "flags": payload.get("flags") or 0,
        "edited_timestamp": None,
        "tts": False,
        "mention_everyone": False,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "pinned": False,
        "type": 0,
    }
    if guild_id:
        data["guild_id"] = guild_id
        data["member"] = author.member(with_user=False)
    data.update(extra)
    return data


def interaction(
    interaction_id: str,
    token: str,
    app_id: str,
    kind: int,
    data: dict,
    user: FakeUser,
    guild_id: str,
    channel: dict,
    **extra: Any,
) -> dict:
    """The INTERACTION_CREATE payload (2 command, 3 component, 4 autocomplete, 5 modal submit) in a guild channel."""
    return {
        "id": interaction_id,
        "application_id": app_id,
        "type": kind,
        "data": data,
        "token": token,
        "version": 1,
        "guild_id": guild_id,
        "channel_id": channel["id"],
        "channel": channel,
        "member": user.member(),
        "app_permissions": str(0xFFFFFFFF),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild_id},
        "context": 0,
        "attachment_size_limit": 10 * 1024 * 1024,
        **extra,
    }


def modal_inputs(components: list[dict]) -> list[dict]:
    """The text inputs of a modal, whether wrapped in action rows (type 1) or labels (type 18)."""
    out = []
    for c in components:
        if c.get("type") == 1:
            out.extend(modal_inputs(c.get("components") or []))
        elif c.get("type") == 18:
            inner = dict(c.get("component") or {})
            inner.setdefault("label", c.get("label"))
            out.append(inner)
        else:
            out.append(c)
    return out


def modal_submission(components: list[dict], values: dict[str, str]) -> list[dict]:
    """The modal-submit `components` mirroring the modal's structure, with the given values filled in."""
    out = []
    for c in components:
        if c.get("type") == 1:
            out.append({"type": 1, "components": modal_submission(c.get("components") or [], values)})
        elif c.get("type") == 18:
            out.append({"type": 18, "component": modal_submission([c["component"]], values)[0]})
        else:
            out.append({"type": c.get("type", 4), "custom_id": c["custom_id"], "value": values.get(c["custom_id"], "")})
    return out
