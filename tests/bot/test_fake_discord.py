"""The fake Discord itself enforces Discord's rules, so the end-to-end tests can rely on it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from ..fakes.discord import FakeDiscord, FakeInteraction


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = await FakeDiscord().start()
    yield server
    await server.stop()


async def call(fake: FakeDiscord, method: str, path: str, body: object = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.request(method, f"{fake.base}/api/v10{path}", json=body) as response:
            if response.status == 204:
                return 204, {}
            assert response.headers["Content-Type"] == "application/json"  # exactly, as discord.py requires
            return response.status, await response.json()


def pending(fake: FakeDiscord, age: float) -> FakeInteraction:
    ix = FakeInteraction("1", "tok", 2, "ask", fake.guild.owner, fake.channel_id, time.monotonic() - age)
    fake.world.interactions[ix.id] = ix
    return ix


async def test_late_acknowledgement_is_unknown_interaction(fake: FakeDiscord) -> None:
    pending(fake, age=3.2)
    status, body = await call(fake, "POST", "/interactions/1/tok/callback?with_response=1", {"type": 5})
    assert (status, body["code"]) == (404, 10062) and "acknowledged after" in fake.violations[0]


async def test_message_limits_are_400_with_nested_errors(fake: FakeDiscord) -> None:
    channel = f"/channels/{fake.channel_id}/messages"
    status, body = await call(fake, "POST", channel, {"content": "x" * 2001})
    assert (status, body["code"]) == (400, 50035) and "content" in body["errors"]
    status, body = await call(fake, "POST", channel, {"embeds": [{"description": "x" * 4097}]})
    assert status == 400 and body["errors"]["embeds"]["0"]["description"]["_errors"]
    status, body = await call(fake, "POST", channel, {"embeds": [{"description": "x" * 3001}] * 2})
    assert status == 400 and body["errors"]["embeds"]["_errors"][0]["code"] == "MAX_EMBED_SIZE_EXCEEDED"
    status, _ = await call(fake, "POST", channel, {"embeds": [{"description": "x"}] * 11})
    assert status == 400
    status, body = await call(fake, "POST", channel, {"content": ""})
    assert body["code"] == 50006 and len(fake.violations) == 5


async def test_pings_and_edit_bursts_are_recorded(fake: FakeDiscord) -> None:
    status, msg = await call(fake, "POST", f"/channels/{fake.channel_id}/messages", {"content": "@everyone hi"})
    assert status == 200 and "would ping" in fake.violations[-1]
    path = f"/channels/{fake.channel_id}/messages/{msg['id']}"
    statuses = [
        (await call(fake, "PATCH", path, {"content": str(i), "allowed_mentions": {"parse": []}}))[0] for i in range(6)
    ]
    assert statuses == [200] * 5 + [429] and "edits" in fake.violations[-1]


async def test_follow_up_after_a_deferral_replaces_the_placeholder(fake: FakeDiscord) -> None:
    ix = pending(fake, age=0)
    await call(fake, "POST", "/interactions/1/tok/callback", {"type": 5})
    await call(fake, "POST", f"/webhooks/{fake.app_id}/tok", {"content": "oops", "flags": 64})
    assert ix.original and ix.original["content"] == "oops" and not ix.ephemeral()  # as on Discord: public
