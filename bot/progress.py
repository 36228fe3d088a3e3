"""Live progress of a long job: throttled edits of the command's reply, carried on in a channel message before the
reply's interaction token expires (Discord lets a reply be edited for 15 minutes)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import discord

from .respond import NO_PINGS, edit_original
from .stream import ThrottledEditor

log = logging.getLogger(__name__)
TOKEN_LIFETIME = 15 * 60.0
HANDOVER = TOKEN_LIFETIME - 60  # seconds after the command at which progress moves to a channel message
EXPIRED = (401, 404)  # what editing a reply answers once its token has expired


class ProgressReport:
    """Progress shown in the command's reply; from `handover` seconds on, in a channel message (posted once, then
    edited to the end), with the reply pointing there instead of claiming a share that no longer moves."""

    def __init__(
        self, interaction: discord.Interaction, interval: float, *, working: str, handover: float = HANDOVER
    ) -> None:
        self.interaction, self.working = interaction, working
        loop = asyncio.get_running_loop()
        self._loop, self._deadline = loop, loop.time() + handover
        self._latest = working
        self._moved: discord.Message | None = None
        self._editor = ThrottledEditor(self._edit, interval)
        self._timer = loop.call_later(handover, self._hand_over)  # also when the job reports nothing for a while

    def update_threadsafe(self, content: str) -> None:
        """Show `content` (from a worker thread), throttled."""
        self._latest = content
        self._editor.update_threadsafe(content=content)

    async def final(self, content: str) -> Any:
        """The last edit: the job's outcome, where the progress is shown by then."""
        self.stop()
        self._latest = content
        return await self._editor.final(content=content)

    def stop(self) -> None:
        """No hand-over after the job has ended."""
        self._timer.cancel()

    def _hand_over(self) -> None:
        if self._moved is None:
            self._editor.update(content=self._latest)

    async def _edit(self, **kwargs: Any) -> Any:
        if self._moved is None and self._loop.time() < self._deadline:
            try:
                return await edit_original(self.interaction, **kwargs)
            except discord.HTTPException as exc:
                if exc.status not in EXPIRED:
                    raise
                log.info("the reply's token expired early (%s); progress goes on in a channel message", exc)
        if self._moved is None:
            return await self._move(**kwargs)
        return await self._moved.edit(allowed_mentions=NO_PINGS, **kwargs)

    async def _move(self, **kwargs: Any) -> discord.Message:
        channel = self.interaction.channel
        if not isinstance(channel, discord.abc.Messageable):
            raise RuntimeError("no channel to carry on the progress in")
        self._moved = await channel.send(allowed_mentions=NO_PINGS, **kwargs)
        try:
            await edit_original(
                self.interaction, content=f"{self.working} Progress continues here: {self._moved.jump_url}"
            )
        except discord.HTTPException as exc:
            log.info("could not point the expired reply to the progress message: %s", exc)
        return self._moved
