"""REST routes answering interactions: the callback (acknowledgement) and the webhook for follow-ups and edits."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from aiohttp import web

from .payloads import EPHEMERAL, LOADING, error_response, json_response
from .rest import BODY, Routes
from .rules import Rules
from .state import World

if TYPE_CHECKING:
    from .server import FakeInteraction

# Callback types: 4 message, 5 deferred ("thinking…"), 6 deferred update, 7 update message, 8 choices, 9 modal.
MESSAGE, DEFERRED, DEFERRED_UPDATE, UPDATE = 4, 5, 6, 7
SHOWN = ("content", "embeds", "components")


class InteractionRoutes:
    """The acknowledgement of an interaction, then its original response and follow-ups through the webhook."""

    def __init__(self, world: World, rules: Rules) -> None:
        self.world, self.rules = world, rules

    def routes(self) -> Routes:
        """(method, path under /api/v10, handler)"""
        return [
            ("POST", "/interactions/{id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{app}/{token}", self.followup),
            ("GET", "/webhooks/{app}/{token}/messages/{m}", self.get_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{m}", self.edit_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{m}", self.delete_message),
        ]

    def _post(self, ix: FakeInteraction, payload: dict, **extra: Any) -> dict:
        app = self.world.app_id
        return self.world.post(ix.channel_id, self.world.bot_user, payload, webhook_id=app, application_id=app, **extra)

    async def callback(self, request: web.Request) -> web.Response:
        ix, body = self.world.interaction(request.match_info["token"]), request[BODY]
        if ix is None:
            return error_response(404, 10062, "Unknown interaction")
        late = time.monotonic() - ix.created
        kind, data = body["type"], body.get("data") or {}
        if bad := self.rules.acknowledgement(ix, late, kind, data):
            return bad
        ix.callbacks.append(body)
        ix.acked_after = late
        resource: dict[str, Any] = {"type": kind}
        if kind in (MESSAGE, DEFERRED):
            if kind == MESSAGE and (bad := self.rules.message(data, creating=True, where=f"/{ix.name} response")):
                return bad
            flags = (data.get("flags") or 0) | (LOADING if kind == DEFERRED else 0)
            ix.original = self._post(ix, {**(data if kind == MESSAGE else {}), "flags": flags}, type=20)
            ix.placeholder = kind == DEFERRED
            resource["message"] = ix.original
        elif kind in (DEFERRED_UPDATE, UPDATE) and ix.message is not None:  # a component's message is the original
            ix.original = ix.message
            if kind == UPDATE:
                ix.message.update({k: data[k] for k in SHOWN if k in data})
            resource["message"] = ix.original
        if "with_response" not in request.query:
            return web.Response(status=204)
        original = ix.original or {}
        return json_response(
            {
                "interaction": {
                    "id": ix.id,
                    "type": ix.kind,
                    "response_message_id": original.get("id"),
                    "response_message_loading": kind == DEFERRED,
                    "response_message_ephemeral": bool(original.get("flags", 0) & EPHEMERAL),
                },
                "resource": resource,
            }
        )

    async def followup(self, request: web.Request) -> web.Response:
        ix, payload = self.world.interaction(request.match_info["token"]), request[BODY]
        if ix is None or not ix.callbacks:
            self.rules.violate("follow-up before the interaction was acknowledged")
            return error_response(404, 10015, "Unknown Webhook")
        if expired := self.rules.token(ix, f"/{ix.name} follow-up"):
            return expired
        if bad := self.rules.message(payload, creating=True, where=f"/{ix.name} follow-up"):
            return bad
        if ix.original and ix.placeholder and not ix.deleted:
            # Discord: the first follow-up after a deferral replaces the "thinking" message and keeps its flags.
            ix.original.update(
                content=payload.get("content") or "",
                embeds=payload.get("embeds") or [],
                components=payload.get("components") or [],
                flags=ix.original["flags"] & ~LOADING,
            )
            ix.placeholder = False
            return json_response(ix.original)
        msg = self._post(ix, payload)
        ix.followups.append(msg)
        return json_response(msg)

    def _message(self, request: web.Request) -> tuple[FakeInteraction | None, dict | None]:
        ix, mid = self.world.interaction(request.match_info["token"]), request.match_info["m"]
        if ix is None:
            return None, None
        if mid == "@original":
            return ix, None if ix.deleted else ix.original
        return ix, next((m for m in ix.followups if m["id"] == mid), None)

    def _expired(self, request: web.Request) -> web.Response | None:
        ix = self.world.interaction(request.match_info["token"])
        return self.rules.token(ix, f"/{ix.name} {request.method} {request.match_info['m']}") if ix else None

    async def get_message(self, request: web.Request) -> web.Response:
        if expired := self._expired(request):
            return expired
        _, msg = self._message(request)
        return json_response(msg) if msg else error_response(404, 10008, "Unknown Message")

    async def edit_message(self, request: web.Request) -> web.Response:
        if expired := self._expired(request):
            return expired
        ix, msg = self._message(request)
        payload = request[BODY]
        if ix is None or msg is None:
            self.rules.violate(f"edit of an unknown interaction message {request.path}")
            return error_response(404, 10008, "Unknown Message")
        if bad := (
            self.rules.message(payload, creating=False, where=f"/{ix.name} edit")
            or self.rules.edit(msg["id"], f"/{ix.name} edit")
        ):
            return bad
        msg.update({k: payload[k] for k in SHOWN if k in payload})
        msg["flags"] &= ~LOADING
        if msg is ix.original:
            ix.placeholder = False
        return json_response(msg)

    async def delete_message(self, request: web.Request) -> web.Response:
        if expired := self._expired(request):
            return expired
        ix, msg = self._message(request)
        if ix is None or msg is None:
            return error_response(404, 10008, "Unknown Message")
        if msg is ix.original:
            ix.deleted, ix.placeholder = True, False
        else:
            ix.followups.remove(msg)
        return web.Response(status=204)
