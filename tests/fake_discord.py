"""A fake Discord on 127.0.0.1: the gateway websocket and the REST routes the bot uses, enforcing Discord's rules.

The real, unmodified discord.py client connects to it (see `FakeDiscord.patched`). Tests inject slash commands,
autocomplete, modal submissions and messages, then wait for what the bot sends. Rule violations (late
acknowledgement, over-long messages, too many edits, pings) are answered as Discord would answer them and also
recorded in `violations`, which a test fixture asserts is empty.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import discord
import yarl
from aiohttp import web

from .fake_discord_payloads import (EPHEMERAL, LOADING, MANAGE_GUILD, FakeFile, FakeUser, channel, choice_errors,
                                   error_response, guild, is_empty, json_response, message, message_errors,
                                   modal_errors, modal_submission, pings, role, snowflake)

ACK_DEADLINE = 3.0
EDIT_LIMIT, EDIT_WINDOW = 5, 5.0
MESSAGE_CONTENT_INTENT = 1 << 15
OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}
BODY = web.RequestKey("body", dict)


@dataclass
class FakeInteraction:
    """One interaction the fake sent, and everything the bot answered to it."""

    id: str
    token: str
    kind: int
    name: str
    user: FakeUser
    channel_id: str
    created: float
    callbacks: list[dict] = field(default_factory=list)
    original: dict | None = None
    placeholder: bool = False
    deleted: bool = False
    followups: list[dict] = field(default_factory=list)
    acked_after: float | None = None

    @property
    def messages(self) -> list[dict]:
        """The visible replies: the original response (unless deleted) and the follow-ups."""
        return ([self.original] if self.original and not self.deleted else []) + self.followups

    @property
    def text(self) -> str:
        """All visible content and embed text, joined, for assertions."""
        parts = []
        for m in self.messages:
            parts.append(m.get("content") or "")
            for e in m.get("embeds") or []:
                parts += [e.get("title") or "", e.get("description") or "", (e.get("footer") or {}).get("text", "")]
        return "\n".join(parts)

    def ephemeral(self) -> bool:
        """True when every visible reply is ephemeral."""
        return bool(self.messages) and all(m.get("flags", 0) & EPHEMERAL for m in self.messages)


class FakeDiscord:
    """Gateway + REST on a random loopback port; see the module docstring."""

    def __init__(self, *, token: str = "fake-token", heartbeat_ms: int = 1000) -> None:
        self.token, self.heartbeat_ms = token, heartbeat_ms
        self.app_id, self.guild_id = snowflake(), snowflake()
        self.bot_user = FakeUser(snowflake(), "Newsdesk", bot=True)
        self.mod_role = role(snowflake(), "Moderators", MANAGE_GUILD, 2)
        self.plain_role = role(snowflake(), "Night Desk", 0, 1)  # a role with no special permission
        self.owner = self.member("owner")
        self.channel_id = snowflake()
        self.channels: dict[str, dict] = {self.channel_id: channel(self.channel_id, self.guild_id, "news")}
        self.messages: dict[str, list[dict]] = defaultdict(list)
        self.interactions: dict[str, FakeInteraction] = {}
        self.files: dict[str, FakeFile] = {}
        self.commands: dict[str, dict] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.violations: list[str] = []
        self.heartbeats: list[float] = []
        self.identify: dict | None = None
        self.ready = asyncio.Event()
        self._edits: dict[str, deque[float]] = defaultdict(deque)
        self._changed = asyncio.Condition()
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> "FakeDiscord":
        """Listen on 127.0.0.1 at a random port."""
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/", self._gateway)
        app.router.add_get("/files/{id}/{name}", self._file)
        api = "/api/v10"
        routes = [
            ("GET", "/users/@me", self._me), ("GET", "/oauth2/applications/@me", self._application),
            ("PUT", "/applications/{app}/commands", self._sync), ("PUT", "/applications/{app}/guilds/{g}/commands", self._sync),
            ("POST", "/channels/{c}/messages", self._create_message), ("GET", "/channels/{c}/messages", self._history),
            ("GET", "/channels/{c}/messages/{m}", self._get_message), ("DELETE", "/channels/{c}/messages/{m}", self._delete_message), ("PATCH", "/channels/{c}/messages/{m}", self._edit_message),
            ("POST", "/channels/{c}/typing", self._typing), ("POST", "/channels/{c}/messages/{m}/threads", self._thread),
            ("POST", "/interactions/{id}/{token}/callback", self._callback), ("POST", "/webhooks/{app}/{token}", self._followup),
            ("PATCH", "/webhooks/{app}/{token}/messages/{m}", self._edit_webhook),
            ("GET", "/webhooks/{app}/{token}/messages/{m}", self._get_webhook),
            ("DELETE", "/webhooks/{app}/{token}/messages/{m}", self._delete_webhook),
        ]
        for method, path, handler in routes:
            app.router.add_route(method, api + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """Close the gateway and the HTTP server."""
        if self._ws is not None:
            await self._ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base(self) -> str:
        """http://127.0.0.1:PORT"""
        return f"http://127.0.0.1:{self.port}"

    @contextlib.contextmanager
    def patched(self) -> Iterator[None]:
        """Point discord.py's REST and gateway URLs at this fake; restore them afterwards."""
        old = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
        discord.http.Route.BASE = f"{self.base}/api/v10"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{self.port}/")
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old

    # ----- test API --------------------------------------------------------------------------------------------
    def member(self, name: str, *, moderator: bool = False, roles: tuple[str, ...] = ()) -> FakeUser:
        """A new guild member; `moderator` gives them the Manage Server permission through a role."""
        user = FakeUser(snowflake(), name, roles=list(roles))
        if moderator:
            user.roles.append(self.mod_role["id"])
            user.permissions |= MANAGE_GUILD
        return user

    def attachment(self, filename: str, data: bytes, content_type: str | None = "text/plain") -> FakeFile:
        """A file the fake serves, to pass as an attachment option."""
        file = FakeFile(filename, data, content_type)
        self.files[file.id] = file
        return file

    async def slash(self, name: str, user: FakeUser, channel_id: str | None = None, **options: Any) -> FakeInteraction:
        """Send an application command (type 2) with the given options."""
        opts, resolved = [], {}
        for key, value in options.items():
            if value is None:
                continue
            if isinstance(value, FakeFile):
                opts.append({"name": key, "type": 11, "value": value.id})
                resolved.setdefault("attachments", {})[value.id] = value.payload(self.base)
            else:
                opts.append({"name": key, "type": OPTION_TYPES[type(value)], "value": value})
        return await self._interact(2, name, user, channel_id, {"options": opts, "resolved": resolved})

    async def autocomplete(self, name: str, user: FakeUser, option: str, value: str, timeout: float = 5) -> list[dict]:
        """Send an autocomplete interaction (type 4) for one option; return the choices the bot offered."""
        ix = await self._interact(4, name, user, None, {"options": [{"name": option, "type": 3, "value": value,
                                                                     "focused": True}]})
        await self.wait_for(lambda: ix.callbacks, timeout)
        return ix.callbacks[0]["data"]["choices"]

    async def submit_modal(self, opened: FakeInteraction, values: dict[str, str], user: FakeUser | None = None) -> FakeInteraction:
        """Submit the modal the bot opened in reply to `opened` (type 5), with values by custom_id."""
        modal = next(c["data"] for c in opened.callbacks if c["type"] == 9)
        data = {"custom_id": modal["custom_id"], "components": modal_submission(modal["components"], values)}
        return await self._interact(5, modal["custom_id"], user or opened.user, None, data)

    async def say(self, content: str, user: FakeUser, channel_id: str | None = None, mention: bool = True) -> dict:
        """A user posts a message (mentioning the bot unless told not to); the bot receives MESSAGE_CREATE."""
        channel_id = channel_id or self.channel_id
        text = f"<@{self.bot_user.id}> {content}" if mention else content
        msg = message(channel_id, self.guild_id, user, {"content": text},
                      mentions=[self.bot_user.user()] if mention else [])
        self.messages[channel_id].append(msg)
        sees_content = mention or (self.identify or {}).get("intents", 0) & MESSAGE_CONTENT_INTENT
        await self.dispatch("MESSAGE_CREATE", msg if sees_content else {**msg, "content": ""})
        return msg

    def bot_messages(self, channel_id: str) -> list[dict]:
        """Messages the bot posted in a channel or thread, oldest first."""
        return [m for m in self.messages[channel_id] if m["author"]["id"] == self.bot_user.id]

    def threads(self) -> list[dict]:
        """Threads created so far."""
        return [c for c in self.channels.values() if c["type"] == 11]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30) -> Any:
        """Wait until predicate() is truthy (re-checked whenever the bot sends something)."""
        async def wait() -> Any:
            async with self._changed:
                while not (result := predicate()):
                    await self._changed.wait()
                return result
        return await asyncio.wait_for(wait(), timeout)

    async def dispatch(self, event: str, data: dict) -> None:
        """Send a gateway DISPATCH event to the connected bot."""
        self._seq += 1
        assert self._ws is not None, "the bot is not connected"
        await self._ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    # ----- internals -------------------------------------------------------------------------------------------
    async def _interact(self, kind: int, name: str, user: FakeUser, channel_id: str | None, data: dict) -> FakeInteraction:
        channel_id = channel_id or self.channel_id
        ix = FakeInteraction(snowflake(), f"tok-{snowflake()}", kind, name, user, channel_id, time.monotonic())
        cmd = self.commands.get(name)
        if kind in (2, 4):
            data = {"id": cmd["id"] if cmd else snowflake(), "name": name, "type": 1, **data}
            if cmd and cmd.get("guild_id"):
                data["guild_id"] = cmd["guild_id"]
        self.interactions[ix.id] = ix
        await self.dispatch("INTERACTION_CREATE", {
            "id": ix.id, "application_id": self.app_id, "type": kind, "data": data, "token": ix.token, "version": 1,
            "guild_id": self.guild_id, "channel_id": channel_id, "channel": self.channels[channel_id],
            "member": user.member(), "app_permissions": str(0xFFFFFFFF), "locale": "en-US", "guild_locale": "en-US",
            "entitlements": [], "authorizing_integration_owners": {"0": self.guild_id}, "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024})
        return ix

    def _violate(self, text: str) -> None:
        self.violations.append(text)

    @web.middleware
    async def _record(self, request: web.Request, handler: Callable) -> web.StreamResponse:
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
            async with self._changed:
                self._changed.notify_all()

    def _checked(self, payload: dict, creating: bool, where: str) -> web.Response | None:
        if errors := message_errors(payload, creating=creating):
            self._violate(f"{where}: 400 invalid form body {errors}")
            return error_response(400, 50035, "Invalid Form Body", errors)
        if creating and is_empty(payload):
            self._violate(f"{where}: empty message")
            return error_response(400, 50006, "Cannot send an empty message")
        if who := pings(payload):
            self._violate(f"{where}: would ping {who}")
        return None

    def _edit_allowed(self, message_id: str, where: str) -> web.Response | None:
        now, stamps = time.monotonic(), self._edits[message_id]
        while stamps and now - stamps[0] > EDIT_WINDOW:
            stamps.popleft()
        if len(stamps) >= EDIT_LIMIT:
            self._violate(f"{where}: more than {EDIT_LIMIT} edits in {EDIT_WINDOW:g} s on one message (429)")
            retry = round(EDIT_WINDOW - (now - stamps[0]), 3)
            return json_response({"message": "You are being rate limited.", "retry_after": retry, "global": False},
                                 429, {"Via": "1.1 google", "Retry-After": str(retry)})
        stamps.append(now)
        return None

    def _post(self, channel_id: str, payload: dict, **extra: Any) -> dict:
        msg = message(channel_id, self.guild_id, self.bot_user, payload, **extra)
        if not msg["flags"] & EPHEMERAL:
            self.messages[channel_id].append(msg)
        return msg

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}}))
        async for frame in ws:
            data = json.loads(frame.data)
            if data["op"] == 1:
                self.heartbeats.append(time.monotonic())
                await ws.send_str(json.dumps({"op": 11}))
            elif data["op"] == 2:
                self.identify = data["d"]
                await self.dispatch("READY", {
                    "v": 10, "user": self.bot_user.user(), "guilds": [{"id": self.guild_id, "unavailable": True}],
                    "session_id": "fake-session", "resume_gateway_url": f"ws://127.0.0.1:{self.port}/",
                    "application": {"id": self.app_id, "flags": 0}, "private_channels": [], "relationships": []})
                roles = [role(self.guild_id, "@everyone", self.owner.permissions, 0), self.mod_role, self.plain_role]
                await self.dispatch("GUILD_CREATE", guild(self.guild_id, self.owner, roles, list(self.channels.values()),
                                                          [self.owner, self.bot_user]))
                self.ready.set()
        self._ws = None
        return ws

    async def _me(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bot {self.token}":
            return error_response(401, 0, "401: Unauthorized")
        return json_response(self.bot_user.user())

    async def _application(self, request: web.Request) -> web.Response:
        return json_response({"id": self.app_id, "name": "Newsdesk", "icon": None, "description": "", "flags": 0,
                              "bot_public": True, "bot_require_code_grant": False, "verify_key": "0",
                              "owner": self.owner.user(), "team": None})

    async def _sync(self, request: web.Request) -> web.Response:
        out = []
        for cmd in request[BODY]:
            cmd = {**cmd, "id": snowflake(), "application_id": self.app_id, "version": snowflake()}
            if "g" in request.match_info:
                cmd["guild_id"] = request.match_info["g"]
            self.commands[cmd["name"]] = cmd
            out.append(cmd)
        return json_response(out)

    async def _file(self, request: web.Request) -> web.Response:
        f = self.files.get(request.match_info["id"])
        if f is None:
            return web.Response(status=404)
        return web.Response(body=f.data, headers={"Content-Type": f.content_type or "application/octet-stream"})

    async def _create_message(self, request: web.Request) -> web.Response:
        cid, payload = request.match_info["c"], request[BODY]
        if cid not in self.channels:
            return error_response(404, 10003, "Unknown Channel")
        if bad := self._checked(payload, True, f"POST channels/{cid}/messages"):
            return bad
        msg = self._post(cid, payload)
        if self._ws is not None:  # Discord echoes the bot's own messages on the gateway
            await self.dispatch("MESSAGE_CREATE", msg)
        return json_response(msg)

    def _find(self, cid: str, mid: str) -> dict | None:
        return next((m for m in self.messages[cid] if m["id"] == mid), None)

    async def _get_message(self, request: web.Request) -> web.Response:
        msg = self._find(request.match_info["c"], request.match_info["m"])
        return json_response(msg) if msg else error_response(404, 10008, "Unknown Message")

    async def _history(self, request: web.Request) -> web.Response:
        limit, before = min(int(request.query.get("limit", 50)), 100), int(request.query.get("before", 1 << 64))
        newest_first = [m for m in reversed(self.messages[request.match_info["c"]]) if int(m["id"]) < before]
        return json_response(newest_first[:limit])

    async def _delete_message(self, request: web.Request) -> web.Response:
        msg = self._find(request.match_info["c"], request.match_info["m"])
        if msg is None:
            return error_response(404, 10008, "Unknown Message")
        self.messages[request.match_info["c"]].remove(msg)
        return web.Response(status=204)

    async def _edit_message(self, request: web.Request) -> web.Response:
        cid, mid, payload = request.match_info["c"], request.match_info["m"], request[BODY]
        msg = self._find(cid, mid)
        if msg is None:
            return error_response(404, 10008, "Unknown Message")
        if bad := self._checked(payload, False, f"PATCH message {mid}") or self._edit_allowed(mid, f"PATCH {mid}"):
            return bad
        msg.update({k: payload[k] for k in ("content", "embeds") if k in payload})
        return json_response(msg)

    async def _typing(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _thread(self, request: web.Request) -> web.Response:
        cid, mid, payload = request.match_info["c"], request.match_info["m"], request[BODY]
        if not 1 <= len(payload.get("name") or "") <= 100:
            self._violate(f"thread name {payload.get('name')!r}")
            return error_response(400, 50035, "Invalid Form Body", {"name": {"_errors": [{"code": "BASE_TYPE_BAD_LENGTH",
                                                                                        "message": "1-100"}]}})
        meta = {"archived": False, "locked": False, "auto_archive_duration": payload.get("auto_archive_duration", 1440),
                "archive_timestamp": None}
        thread = channel(mid, self.guild_id, payload["name"], 11, parent_id=cid, owner_id=self.bot_user.id,
                         thread_metadata=meta, message_count=0, member_count=1)
        self.channels[mid] = thread
        if self._ws is not None:
            await self.dispatch("THREAD_CREATE", {**thread, "newly_created": True})
        return json_response(thread)

    def _interaction(self, request: web.Request) -> FakeInteraction | None:
        token = request.match_info["token"]
        return next((ix for ix in self.interactions.values() if ix.token == token), None)

    async def _callback(self, request: web.Request) -> web.Response:
        ix, body = self._interaction(request), request[BODY]
        if ix is None:
            return error_response(404, 10062, "Unknown interaction")
        late = time.monotonic() - ix.created
        if late > ACK_DEADLINE:
            self._violate(f"/{ix.name}: acknowledged after {late:.2f} s")
            return error_response(404, 10062, "Unknown interaction")
        if ix.callbacks:
            self._violate(f"/{ix.name}: acknowledged twice")
            return error_response(400, 40060, "Interaction has already been acknowledged.")
        kind, data = body["type"], body.get("data") or {}
        errors = (choice_errors(data.get("choices", [])) if kind == 8 else modal_errors(data) if kind == 9
                  else message_errors(data, creating=True) if kind == 4 else {})
        if errors:
            self._violate(f"/{ix.name}: callback type {kind} invalid {errors}")
            return error_response(400, 50035, "Invalid Form Body", errors)
        ix.callbacks.append(body)
        ix.acked_after = late
        resource: dict[str, Any] = {"type": kind}
        if kind in (4, 5):
            if kind == 4 and (bad := self._checked(data, True, f"/{ix.name} response")):
                return bad
            flags = (data.get("flags") or 0) | (LOADING if kind == 5 else 0)
            ix.original = self._post(ix.channel_id, {**(data if kind == 4 else {}), "flags": flags},
                                     webhook_id=self.app_id, application_id=self.app_id, type=20)
            ix.placeholder = kind == 5
            resource["message"] = ix.original
        if "with_response" not in request.query:
            return web.Response(status=204)
        return json_response({"interaction": {"id": ix.id, "type": ix.kind, "response_message_id": (ix.original or {}).get("id"),
                                              "response_message_loading": kind == 5,
                                              "response_message_ephemeral": bool((ix.original or {}).get("flags", 0) & EPHEMERAL)},
                              "resource": resource})

    async def _followup(self, request: web.Request) -> web.Response:
        ix, payload = self._interaction(request), request[BODY]
        if ix is None or not ix.callbacks:
            self._violate("follow-up before the interaction was acknowledged")
            return error_response(404, 10015, "Unknown Webhook")
        if bad := self._checked(payload, True, f"/{ix.name} follow-up"):
            return bad
        if ix.original and ix.placeholder and not ix.deleted:
            # Discord: the first follow-up after a deferral replaces the "thinking" message and keeps its flags.
            ix.original.update(content=payload.get("content") or "", embeds=payload.get("embeds") or [],
                               flags=ix.original["flags"] & ~LOADING)
            ix.placeholder = False
            return json_response(ix.original)
        msg = self._post(ix.channel_id, payload, webhook_id=self.app_id, application_id=self.app_id)
        ix.followups.append(msg)
        return json_response(msg)

    def _webhook_message(self, request: web.Request) -> tuple[FakeInteraction | None, dict | None]:
        ix, mid = self._interaction(request), request.match_info["m"]
        if ix is None:
            return None, None
        if mid == "@original":
            return ix, None if ix.deleted else ix.original
        return ix, next((m for m in ix.followups if m["id"] == mid), None)

    async def _get_webhook(self, request: web.Request) -> web.Response:
        _, msg = self._webhook_message(request)
        return json_response(msg) if msg else error_response(404, 10008, "Unknown Message")

    async def _edit_webhook(self, request: web.Request) -> web.Response:
        ix, msg = self._webhook_message(request)
        payload = request[BODY]
        if ix is None or msg is None:
            self._violate(f"edit of an unknown interaction message {request.path}")
            return error_response(404, 10008, "Unknown Message")
        if bad := self._checked(payload, False, f"/{ix.name} edit") or self._edit_allowed(msg["id"], f"/{ix.name} edit"):
            return bad
        msg.update({k: payload[k] for k in ("content", "embeds") if k in payload})
        msg["flags"] &= ~LOADING
        if msg is ix.original:
            ix.placeholder = False
        return json_response(msg)

    async def _delete_webhook(self, request: web.Request) -> web.Response:
        ix, msg = self._webhook_message(request)
        if ix is None or msg is None:
            return error_response(404, 10008, "Unknown Message")
        if msg is ix.original:
            ix.deleted, ix.placeholder = True, False
        else:
            ix.followups.remove(msg)
        return web.Response(status=204)
