"""Interaction replies: defer at once, edit the original, and send ephemeral errors the way Discord allows."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

import discord

from .stream import ThrottledEditor

T = TypeVar("T")
NO_PINGS = discord.AllowedMentions.none()
QUICK = 1.0  # seconds a command may take before it shows a "thinking…" placeholder (Discord allows 3 to acknowledge)
_PLACEHOLDER = "newsdesk.placeholder"


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now (Discord allows 3 s) with a "thinking…" placeholder to edit later."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    interaction.extras[_PLACEHOLDER] = True


async def quickly_or_deferred(
    interaction: discord.Interaction, work: Awaitable[T], *, ephemeral: bool = False, within: float = QUICK
) -> T:
    """The result of `work`; when it takes longer than `within` seconds, a placeholder acknowledges first.

    Work that fails fast (bad input, a refusal by the engine) thus reports privately with no public "thinking…"
    flashing first; answer with `reply`, which sends or edits as the interaction's state requires."""
    task = asyncio.ensure_future(work)
    late = (discord.utils.utcnow() - interaction.created_at).total_seconds()  # a busy bot sees commands late
    finished, _ = await asyncio.wait({task}, timeout=max(0.0, min(within, within - late)))
    if not finished:
        try:
            await defer(interaction, ephemeral=ephemeral)
        except BaseException:
            task.add_done_callback(lambda t: t.cancelled() or t.exception())  # the work goes on; its outcome is moot
            raise
    return await task


async def reply(interaction: discord.Interaction, **kwargs: Any) -> None:
    """The response: sent now if the interaction is not yet acknowledged, else the placeholder edited."""
    if interaction.response.is_done():
        await edit_original(interaction, **kwargs)
    else:
        await interaction.response.send_message(allowed_mentions=NO_PINGS, **kwargs)


async def edit_original(interaction: discord.Interaction, **kwargs: Any) -> discord.InteractionMessage:
    """Replace the placeholder (or the previous text) of the original response."""
    message = await interaction.edit_original_response(allowed_mentions=NO_PINGS, **kwargs)
    interaction.extras[_PLACEHOLDER] = False
    return message


def original_editor(interaction: discord.Interaction, interval: float) -> ThrottledEditor:
    """A throttled editor of the original response, for progress and streamed text."""

    async def edit(**kwargs: Any) -> discord.InteractionMessage:
        return await edit_original(interaction, **kwargs)

    return ThrottledEditor(edit, interval)


async def tell(interaction: discord.Interaction, text: str) -> None:
    """Show `text` to the invoking user only, whatever state the interaction is in."""
    if interaction.type is discord.InteractionType.autocomplete:
        return
    if not interaction.response.is_done():
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=NO_PINGS)
        return
    if interaction.extras.get(_PLACEHOLDER):
        # The first follow-up would replace a public "thinking…" placeholder and be public too: remove it first.
        try:
            await interaction.delete_original_response()
        except discord.HTTPException:
            pass
        interaction.extras[_PLACEHOLDER] = False
    await interaction.followup.send(text, ephemeral=True, allowed_mentions=NO_PINGS)
