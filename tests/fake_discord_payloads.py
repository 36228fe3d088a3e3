"""Payload builders and Discord's documented limits, for the fake Discord server in fake_discord.py."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

_ids = itertools.count(1)
EPHEMERAL = 1 << 6
LOADING = 1 << 7
MANAGE_GUILD = 1 << 5
MEMBER_PERMISSIONS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 35) | (1 << 38)  # view, send, embed, history, threads


def snowflake() -> str:
    """A new, unique, realistic (19-digit) snowflake id."""
    ms = int(datetime.now(timezone.utc).timestamp() * 1000) - 1420070400000
    return str((ms << 22) | (next(_ids) & 0x3FFFFF))


def now_iso() -> str:
    """The current time as Discord formats it."""
    return datetime.now(timezone.utc).isoformat()


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON response whose Content-Type is exactly application/json (discord.py insists)."""
    return web.Response(body=json.dumps(data).encode(), status=status,
                        headers={"Content-Type": "application/json", **(headers or {})})


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
        return {"id": self.id, "username": self.name, "global_name": self.name, "discriminator": "0",
                "avatar": None, "bot": self.bot, "public_flags": 0}

    def member(self, with_user: bool = True) -> dict:
        """The guild member object (with `permissions` as interactions carry it)."""
        data = {"roles": list(self.roles), "joined_at": now_iso(), "deaf": False, "mute": False, "flags": 0,
                "nick": None, "avatar": None, "pending": False, "permissions": str(self.permissions)}
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
        out = {"id": self.id, "filename": self.filename, "size": len(self.data) if self.size is None else self.size,
               "url": url, "proxy_url": url}
        if self.content_type:
            out["content_type"] = self.content_type
        return out


def channel(channel_id: str, guild_id: str, name: str, kind: int = 0, **extra: Any) -> dict:
    """A guild channel (0 = text, 11 = public thread)."""
    return {"id": channel_id, "guild_id": guild_id, "name": name, "type": kind, "position": 0,
            "permission_overwrites": [], "nsfw": False, "parent_id": None, "topic": None,
            "last_message_id": None, "rate_limit_per_user": 0, **extra}


def guild(guild_id: str, owner: FakeUser, roles: list[dict], channels: list[dict], members: list[FakeUser]) -> dict:
    """The GUILD_CREATE payload."""
    return {"id": guild_id, "name": "Fake Newsroom", "owner_id": owner.id, "unavailable": False, "large": False,
            "member_count": len(members), "roles": roles, "channels": channels, "threads": [],
            "members": [m.member() for m in members], "emojis": [], "stickers": [], "features": [],
            "voice_states": [], "presences": [], "stage_instances": [], "guild_scheduled_events": [],
            "joined_at": now_iso(), "icon": None, "splash": None, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0,
            "premium_tier": 0, "preferred_locale": "en-US", "system_channel_flags": 0, "nsfw_level": 0}


def role(role_id: str, name: str, permissions: int, position: int = 1) -> dict:
    """A role object."""
    return {"id": role_id, "name": name, "permissions": str(permissions), "position": position, "color": 0,
            "hoist": False, "managed": False, "mentionable": False, "flags": 0}


def message(channel_id: str, guild_id: str | None, author: FakeUser, payload: dict, **extra: Any) -> dict:
    """A message object built from what a client sent (content, embeds, flags...)."""
    data = {"id": snowflake(), "channel_id": channel_id, "author": author.user(), "timestamp": now_iso(),
            "content": payload.get("content") or "", "embeds": payload.get("embeds") or [],
            "flags": payload.get("flags") or 0, "edited_timestamp": None, "tts": False, "mention_everyone": False,
            "mentions": [], "mention_roles": [], "attachments": [], "pinned": False, "type": 0, "components": []}
    if guild_id:
        data["guild_id"] = guild_id
        data["member"] = author.member(with_user=False)
    data.update(extra)
    return data


def _limit(errors: dict, path: list[str], code: str, text: str) -> None:
    node = errors
    for key in path:
        node = node.setdefault(key, {})
    node.setdefault("_errors", []).append({"code": code, "message": text})


def message_errors(payload: dict, *, creating: bool) -> dict:
    """Discord's validation of a message body: the nested `errors` object, empty when valid."""
    errors: dict = {}
    content = payload.get("content") or ""
    if len(content) > 2000:
        _limit(errors, ["content"], "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        _limit(errors, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        for key, cap in (("title", 256), ("description", 4096)):
            text = embed.get(key) or ""
            total += len(text)
            if len(text) > cap:
                _limit(errors, ["embeds", str(i), key], "BASE_TYPE_MAX_LENGTH", f"Must be {cap} or fewer in length.")
        for key, sub, cap in (("footer", "text", 2048), ("author", "name", 256)):
            text = (embed.get(key) or {}).get(sub) or ""
            total += len(text)
            if len(text) > cap:
                _limit(errors, ["embeds", str(i), key, sub], "BASE_TYPE_MAX_LENGTH", f"Must be {cap} or fewer.")
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _limit(errors, ["embeds", str(i), "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for f in fields:
            total += len(f.get("name") or "") + len(f.get("value") or "")
            if len(f.get("name") or "") > 256 or len(f.get("value") or "") > 1024:
                _limit(errors, ["embeds", str(i), "fields"], "BASE_TYPE_MAX_LENGTH", "Field too long.")
    if total > 6000:
        _limit(errors, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    return errors


def is_empty(payload: dict) -> bool:
    """True for a new message with nothing to show (Discord answers 50006)."""
    return not (payload.get("content") or payload.get("embeds") or payload.get("attachments")
                or payload.get("components") or payload.get("sticker_ids") or payload.get("poll"))


def pings(payload: dict) -> list[str]:
    """Who this message would notify under Discord's allowed_mentions rules (a safety check for tests)."""
    content = payload.get("content") or ""
    parse = (payload.get("allowed_mentions") or {"parse": ["everyone", "users", "roles"]}).get("parse", [])
    allowed = payload.get("allowed_mentions") or {}
    out = []
    if "everyone" in parse and ("@everyone" in content or "@here" in content):
        out.append("everyone")
    if ("users" in parse or allowed.get("users")) and "<@" in content:
        out.append("users")
    if ("roles" in parse or allowed.get("roles")) and "<@&" in content:
        out.append("roles")
    return out


def choice_errors(choices: list[dict]) -> dict:
    """Validation of autocomplete results: at most 25 choices, names 1-100 characters, values ≤ 100."""
    errors: dict = {}
    if len(choices) > 25:
        _limit(errors, ["data", "choices"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, c in enumerate(choices):
        if not 1 <= len(c.get("name", "")) <= 100:
            _limit(errors, ["data", "choices", str(i), "name"], "BASE_TYPE_BAD_LENGTH", "Must be 1-100 long.")
        if isinstance(c.get("value"), str) and len(c["value"]) > 100:
            _limit(errors, ["data", "choices", str(i), "value"], "BASE_TYPE_MAX_LENGTH", "Must be ≤ 100 long.")
    return errors


def modal_errors(data: dict) -> dict:
    """Validation of a modal: title ≤ 45, 1-5 components, labels ≤ 45, custom ids ≤ 100."""
    errors: dict = {}
    if not 1 <= len(data.get("title") or "") <= 45:
        _limit(errors, ["data", "title"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 45 in length.")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        _limit(errors, ["data", "components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for i, item in enumerate(modal_inputs(rows)):
        if len(item.get("label") or "") > 45 or len(item.get("custom_id") or "") > 100:
            _limit(errors, ["data", "components", str(i)], "BASE_TYPE_MAX_LENGTH", "Label or custom_id too long.")
    return errors


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
