"""REST routes the bot uses, apart from interactions: its user and application, command sync, messages, threads."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from .gateway import Gateway
from .payloads import PUBLIC_THREAD, error_response, json_response, snowflake
from .rules import Rules
from .state import World

API = "/api/v10"
BODY = web.RequestKey("body", dict)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Routes = list[tuple[str, str, Handler]]


class RequestLog:
    """Middleware: parse each body into request[BODY], record the request, then wake whoever waits on `changed`."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, Any]] = []  # (method, path, body)
        self.changed = asyncio.Condition()

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record, answer, notify."""
        body: Any = None
        if request.method in ("POST", "PATCH", "PUT") and request.path.startswith("/api/"):
            if request.content_type == "multipart/form-data":
                form = await request.post()
                body = json.loads(str(form.get("payload_json") or "{}"))
            elif request.can_read_body:
                body = await request.json()
            request[BODY] = body or {}
        self.requests.append((request.method, request.path, body))
        try:
            return await handler(request)
        finally:
            async with self.changed:
                self.changed.notify_all()


class ChannelRoutes:
    """The bot's user and application, command sync, channel messages, typing, threads, and attachment files."""

    def __init__(self, world: World, rules: Rules, gateway: Gateway) -> None:
        self.world, self.rules, self.gateway = world, rules, gateway

    def routes(self) -> Routes:
        """(method, path under /api/v10, handler)"""
        return [
            ("GET", "/users/@me", self.me),
            ("GET", "/oauth2/applications/@me", self.application),
            ("PUT", "/applications/{app}/commands", self.sync),
            ("PUT", "/applications/{app}/guilds/{g}/commands", self.sync),
            ("POST", "/channels/{c}/messages", self.create_message),
            ("GET", "/channels/{c}/messages", self.history),
            ("GET", "/channels/{c}/messages/{m}", self.get_message),
            ("PATCH", "/channels/{c}/messages/{m}", self.edit_message),
            ("DELETE", "/channels/{c}/messages/{m}", self.delete_message),
            ("POST", "/channels/{c}/typing", self.typing),
            ("POST", "/channels/{c}/messages/{m}/threads", self.thread),
        ]

    async def me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {self.world.token}":
            return error_response(401, 0, "401: Unauthorized")
        return json_response(self.world.bot_user.user())

    async def application(self, request: web.Request) -> web.Response:
        owner = next(iter(self.world.guilds.values())).owner
        return json_response(
            {
                "id": self.world.app_id,
                "name": "Newsdesk",
                "icon": None,
                "description": "",
                "flags": 0,
                "bot_public": True,
                "bot_require_code_grant": False,
                "verify_key": "0",
                "owner": owner.user(),
                "team": None,
            }
        )

    async def sync(self, request: web.Request) -> web.Response:
        out = []
        for cmd in request[BODY]:
            cmd = {**cmd, "id": snowflake(), "application_id": self.world.app_id, "version": snowflake()}
            if "g" in request.match_info:
                cmd["guild_id"] = request.match_info["g"]
            self.world.commands[cmd["name"]] = cmd
            out.append(cmd)
        return json_response(out)

    async def file(self, request: web.Request) -> web.Response:
        """GET /files/{id}/{name}: an attachment's bytes."""
        f = self.world.files.get(request.match_info["id"])
        if f is None:
            return web.Response(status=404)
        return web.Response(body=f.data, headers={"Content-Type": f.content_type or "application/octet-stream"})

    async def create_message(self, request: web.Request) -> web.Response:
        cid, payload = request.match_info["c"], request[BODY]
        if self.world.channel(cid) is None:
            return error_response(404, 10003, "Unknown Channel")
        if bad := self.rules.message(payload, creating=True, where=f"POST channels/{cid}/messages"):
            return bad
        msg = self.world.post(cid, self.world.bot_user, payload)
        if self.gateway.connected:  # Discord echoes the bot's own messages on the gateway
            await self.gateway.dispatch("MESSAGE_CREATE", msg)
        return json_response(msg)

    async def get_message(self, request: web.Request) -> web.Response:
        msg = self.world.find_message(request.match_info["c"], request.match_info["m"])
        return json_response(msg) if msg else error_response(404, 10008, "Unknown Message")

    async def history(self, request: web.Request) -> web.Response:
        limit, before = min(int(request.query.get("limit", 50)), 100), int(request.query.get("before", 1 << 64))
        newest_first = [m for m in reversed(self.world.messages[request.match_info["c"]]) if int(m["id"]) < before]
        return json_response(newest_first[:limit])

    async def delete_message(self, request: web.Request) -> web.Response:
        msg = self.world.find_message(request.match_info["c"], request.match_info["m"])
        if msg is None:
            return error_response(404, 10008, "Unknown Message")
        self.world.messages[request.match_info["c"]].remove(msg)
        return web.Response(status=204)

    async def edit_message(self, request: web.Request) -> web.Response:
        cid, mid, payload = request.match_info["c"], request.match_info["m"], request[BODY]
        msg = self.world.find_message(cid, mid)
        if msg is None:
            return error_response(404, 10008, "Unknown Message")
        if bad := (
            self.rules.message(payload, creating=False, where=f"PATCH message {mid}")
            or self.rules.edit(mid, f"PATCH {mid}")
        ):
            return bad
        msg.update({k: payload[k] for k in ("content", "embeds", "components") if k in payload})
        return json_response(msg)

    async def typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def thread(self, request: web.Request) -> web.Response:
        """A public thread on a message (its id becomes the thread's id)."""
        cid, mid, payload = request.match_info["c"], request.match_info["m"], request[BODY]
        if bad := self.rules.thread_name(payload.get("name")):
            return bad
        guild = self.world.guild_of(cid)
        if guild is None:
            return error_response(404, 10003, "Unknown Channel")
        meta = {
            "archived": False,
            "locked": False,
            "auto_archive_duration": payload.get("auto_archive_duration", 1440),
            "archive_timestamp": None,
        }
        thread = guild.add_channel(
            payload["name"],
            PUBLIC_THREAD,
            mid,
            parent_id=cid,
            owner_id=self.world.bot_user.id,
            thread_metadata=meta,
            message_count=0,
            member_count=1,
        )
        if self.gateway.connected:
            await self.gateway.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)
