"""The gateway websocket: HELLO, IDENTIFY → READY and one GUILD_CREATE per guild, heartbeats, and DISPATCH events."""

from __future__ import annotations

import asyncio
import json
import time

from aiohttp import web

from .state import World

HELLO, HEARTBEAT, IDENTIFY, HEARTBEAT_ACK, DISPATCH = 10, 1, 2, 11, 0  # opcodes


class Gateway:
    """One bot connection at a time; `dispatch` pushes events to it."""

    def __init__(self, world: World, heartbeat_ms: int = 1000) -> None:
        self.world, self.heartbeat_ms = world, heartbeat_ms
        self.heartbeats: list[float] = []  # monotonic times of the bot's heartbeats
        self.identify: dict | None = None  # the bot's IDENTIFY payload (token, intents...)
        self.ready = asyncio.Event()  # set once the guilds have been sent
        self._ws: web.WebSocketResponse | None = None
        self._seq = 0

    @property
    def connected(self) -> bool:
        """True while a bot is connected."""
        return self._ws is not None

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one connection until the bot closes it."""
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._ws = ws
        await ws.send_str(json.dumps({"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_ms}}))
        async for frame in ws:
            data = json.loads(frame.data)
            if data["op"] == HEARTBEAT:
                self.heartbeats.append(time.monotonic())
                await ws.send_str(json.dumps({"op": HEARTBEAT_ACK}))
            elif data["op"] == IDENTIFY:
                self.identify = data["d"]
                await self._ready(f"ws://{request.host}/")
        self._ws = None
        return ws

    async def _ready(self, resume_url: str) -> None:
        world = self.world
        await self.dispatch(
            "READY",
            {
                "v": 10,
                "user": world.bot_user.user(),
                "guilds": [{"id": g, "unavailable": True} for g in world.guilds],
                "session_id": "fake-session",
                "resume_gateway_url": resume_url,
                "application": {"id": world.app_id, "flags": 0},
                "private_channels": [],
                "relationships": [],
            },
        )
        for guild in world.guilds.values():
            await self.dispatch("GUILD_CREATE", guild.payload())
        self.ready.set()

    async def dispatch(self, event: str, data: dict) -> None:
        """Send a DISPATCH event to the connected bot."""
        self._seq += 1
        assert self._ws is not None, "the bot is not connected"
        await self._ws.send_str(json.dumps({"op": DISPATCH, "t": event, "s": self._seq, "d": data}))

    async def close(self) -> None:
        """Close the connection, if any."""
        if self._ws is not None:
            await self._ws.close()
