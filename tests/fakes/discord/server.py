"""FakeDiscord: starts the gateway and the REST routes on loopback; tests drive it (inject events, wait, inspect)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import discord
import yarl
from aiohttp import web

from .gateway import Gateway
from .interactions import InteractionRoutes
from .payloads import (
    EPHEMERAL,
    MANAGE_GUILD,
    PUBLIC_THREAD,
    TEXT,
    FakeFile,
    FakeUser,
    interaction,
    modal_submission,
    snowflake,
)
from .rest import API, ChannelRoutes, RequestLog
from .rules import Rules, sees_content
from .state import Guild, World

OPTION_TYPES = {str: 3, int: 4, bool: 5, float: 10}
COMMAND, COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT = 2, 3, 4, 5  # interaction types


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
    message: dict | None = None  # the message whose button or menu was used (component interactions)

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
                parts += [f"{f.get('name')}: {f.get('value')}" for f in e.get("fields") or []]
        return "\n".join(parts)

    @property
    def public_placeholder(self) -> bool:
        """True if the bot acknowledged with a "thinking…" placeholder that everyone in the channel saw."""
        return any(c["type"] == 5 and not (c.get("data") or {}).get("flags", 0) & EPHEMERAL for c in self.callbacks)

    def ephemeral(self) -> bool:
        """True when every visible reply is ephemeral."""
        return bool(self.messages) and all(m.get("flags", 0) & EPHEMERAL for m in self.messages)


@dataclass
class FakeServer:
    """A further guild: its channel #news and its roles."""

    guild: Guild
    channel_id: str
    mod_role: dict
    plain_role: dict

    @property
    def id(self) -> str:
        """The guild's id."""
        return self.guild.id


class FakeDiscord:
    """One guild ("Fake Newsroom": #news, roles Moderators and Night Desk) served on a random loopback port."""

    def __init__(self, *, token: str = "fake-token", heartbeat_ms: int = 1000, rules: Rules | None = None) -> None:
        self.world = World(token)
        self.rules = rules or Rules()
        self.gateway = Gateway(self.world, heartbeat_ms)
        self.log = RequestLog()
        self.guild = self.world.add_guild("Fake Newsroom")
        self.mod_role = self.guild.add_role("Moderators", MANAGE_GUILD, 2)
        self.plain_role = self.guild.add_role("Night Desk", 0, 1)  # a role with no special permission
        self.channel_id = self.guild.add_channel("news")["id"]
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ----- lifecycle -------------------------------------------------------------------------------------------
    async def start(self) -> FakeDiscord:
        """Listen on 127.0.0.1 at a random port."""
        app = web.Application(middlewares=[self.log.middleware])
        channels = ChannelRoutes(self.world, self.rules, self.gateway)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_get("/files/{id}/{name}", channels.file)
        for method, path, handler in channels.routes() + InteractionRoutes(self.world, self.rules).routes():
            app.router.add_route(method, API + path, handler)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        """Close the gateway and the HTTP server."""
        await self.gateway.close()
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
        discord.http.Route.BASE = f"{self.base}{API}"
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(f"ws://127.0.0.1:{self.port}/")
        try:
            yield
        finally:
            discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old

    # ----- what tests read -------------------------------------------------------------------------------------
    @property
    def token(self) -> str:
        """The bot token the fake accepts."""
        return self.world.token

    @property
    def app_id(self) -> str:
        """The application's id."""
        return self.world.app_id

    @property
    def guild_id(self) -> str:
        """The guild's id."""
        return self.guild.id

    @property
    def commands(self) -> dict[str, dict]:
        """Synced commands by name."""
        return self.world.commands

    @property
    def requests(self) -> list[tuple[str, str, Any]]:
        """Every request the bot made: (method, path, JSON body)."""
        return self.log.requests

    @property
    def violations(self) -> list[str]:
        """Discord rules the bot broke."""
        return self.rules.violations

    def bot_messages(self, channel_id: str) -> list[dict]:
        """Messages the bot posted in a channel or thread, oldest first."""
        return [m for m in self.world.messages[channel_id] if m["author"]["id"] == self.world.bot_user.id]

    def threads(self) -> list[dict]:
        """Threads created so far."""
        return [c for g in self.world.guilds.values() for c in g.channels.values() if c["type"] == PUBLIC_THREAD]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 30) -> Any:
        """Wait until predicate() is truthy (re-checked whenever the bot sends something)."""

        async def wait() -> Any:
            async with self.log.changed:
                while not (result := predicate()):
                    await self.log.changed.wait()
                return result

        return await asyncio.wait_for(wait(), timeout)

    # ----- what tests do ---------------------------------------------------------------------------------------
    def member(
        self, name: str, *, moderator: bool = False, roles: tuple[str, ...] = (), server: FakeServer | None = None
    ) -> FakeUser:
        """A new member of the first guild (or of `server`); `moderator` gives them the Manage Server permission
        through a role."""
        user = FakeUser(snowflake(), name, roles=list(roles))
        if moderator:
            user.roles.append((server.mod_role if server else self.mod_role)["id"])
            user.permissions |= MANAGE_GUILD
        return (server.guild if server else self.guild).add_member(user)

    def add_server(self, name: str) -> FakeServer:
        """Another guild the bot is in, with its own #news channel and Moderators and Night Desk roles (add it
        before the bot connects: its GUILD_CREATE is sent at IDENTIFY)."""
        guild = self.world.add_guild(name)
        return FakeServer(
            guild,
            guild.add_channel("news")["id"],
            guild.add_role("Moderators", MANAGE_GUILD, 2),
            guild.add_role("Night Desk", 0, 1),
        )

    async def add_channel(self, name: str, server: FakeServer | None = None, kind: int = TEXT) -> str:
        """A new channel of the first guild (or of `server`), announced to a connected bot; its id."""
        channel = (server.guild if server else self.guild).add_channel(name, kind)
        if self.gateway.connected:
            await self.gateway.dispatch("CHANNEL_CREATE", channel)
        return str(channel["id"])

    async def click(self, message: dict, custom_id: str, user: FakeUser) -> FakeInteraction:
        """Press a button of a message (a component interaction, type 3)."""
        data = {"custom_id": custom_id, "component_type": 2}
        return await self.interact(COMPONENT, custom_id, user, message["channel_id"], data, message=message)

    async def choose(self, message: dict, custom_id: str, values: list[str], user: FakeUser) -> FakeInteraction:
        """Pick values in a select menu of a message (a component interaction, type 3)."""
        data = {"custom_id": custom_id, "component_type": 3, "values": values}
        return await self.interact(COMPONENT, custom_id, user, message["channel_id"], data, message=message)

    def attachment(self, filename: str, data: bytes, content_type: str | None = "text/plain") -> FakeFile:
        """A file the fake serves, to pass as an attachment option."""
        file = FakeFile(filename, data, content_type)
        self.world.files[file.id] = file
        return file

    async def slash(self, name: str, user: FakeUser, channel_id: str | None = None, **options: Any) -> FakeInteraction:
        """Send an application command (type 2) with the given options."""
        opts: list[dict] = []
        resolved: dict[str, dict] = {}
        for key, value in options.items():
            if value is None:
                continue
            if isinstance(value, FakeFile):
                opts.append({"name": key, "type": 11, "value": value.id})
                resolved.setdefault("attachments", {})[value.id] = value.payload(self.base)
            else:
                opts.append({"name": key, "type": OPTION_TYPES[type(value)], "value": value})
        return await self.interact(COMMAND, name, user, channel_id, {"options": opts, "resolved": resolved})

    async def autocomplete(self, name: str, user: FakeUser, option: str, value: str, timeout: float = 5) -> list[dict]:
        """Send an autocomplete interaction (type 4) for one option; return the choices the bot offered."""
        ix = await self.interact(
            AUTOCOMPLETE, name, user, None, {"options": [{"name": option, "type": 3, "value": value, "focused": True}]}
        )
        await self.wait_for(lambda: ix.callbacks, timeout)
        return ix.callbacks[0]["data"]["choices"]

    async def submit_modal(
        self, opened: FakeInteraction, values: dict[str, str], user: FakeUser | None = None
    ) -> FakeInteraction:
        """Submit the modal the bot opened in reply to `opened` (type 5), with values by custom_id."""
        modal = next(c["data"] for c in opened.callbacks if c["type"] == 9)
        data = {"custom_id": modal["custom_id"], "components": modal_submission(modal["components"], values)}
        return await self.interact(MODAL_SUBMIT, modal["custom_id"], user or opened.user, opened.channel_id, data)

    async def say(
        self,
        content: str,
        user: FakeUser,
        channel_id: str | None = None,
        mention: bool = True,
        mentions: tuple[FakeUser, ...] = (),
    ) -> dict:
        """A user posts a message (mentioning the bot unless told not to, and the members in `mentions`, whose
        <@id> the content holds); the bot receives MESSAGE_CREATE."""
        bot = self.world.bot_user
        text = f"<@{bot.id}> {content}" if mention else content
        mentioned = ([bot] if mention else []) + list(mentions)
        msg = self.world.post(
            channel_id or self.channel_id,
            user,
            {"content": text},
            mentions=[{**m.user(), "member": m.member(with_user=False)} for m in mentioned],
        )
        shown = sees_content((self.gateway.identify or {}).get("intents", 0), mention)
        await self.gateway.dispatch("MESSAGE_CREATE", msg if shown else {**msg, "content": ""})
        return msg

    async def dispatch(self, event: str, data: dict) -> None:
        """Send any gateway event to the bot."""
        await self.gateway.dispatch(event, data)

    async def interact(
        self, kind: int, name: str, user: FakeUser, channel_id: str | None, data: dict, **extra: Any
    ) -> FakeInteraction:
        """Send an INTERACTION_CREATE of any type; commands and autocomplete get the synced command's id."""
        channel_id = channel_id or self.channel_id
        ix = FakeInteraction(
            snowflake(),
            f"tok-{snowflake()}",
            kind,
            name,
            user,
            channel_id,
            time.monotonic(),
            message=extra.get("message"),
        )
        cmd = self.world.commands.get(name)
        if kind in (COMMAND, AUTOCOMPLETE):
            data = {"id": cmd["id"] if cmd else snowflake(), "name": name, "type": 1, **data}
            if cmd and cmd.get("guild_id"):
                data["guild_id"] = cmd["guild_id"]
        self.world.interactions[ix.id] = ix
        guild, channel = self.world.guild_of(channel_id), self.world.channel(channel_id)
        assert guild is not None and channel is not None, f"unknown channel {channel_id}"
        await self.gateway.dispatch(
            "INTERACTION_CREATE",
            interaction(ix.id, ix.token, self.world.app_id, kind, data, user, guild.id, channel, **extra),
        )
        return ix
