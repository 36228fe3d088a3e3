"""Interaction replies: defer at once, edit the original, and send ephemeral errors the way Discord allows."""

from __future__ import annotations

from typing import Any

import discord

from .stream import ThrottledEditor

NO_PINGS = discord.AllowedMentions.none()
_PLACEHOLDER = "newsdesk.placeholder"


async def defer(interaction: discord.Interaction, *, ephemeral: bool = False) -> None:
    """Acknowledge now (Discord allows 3 s) with a "thinking…" placeholder to edit later."""
    await interaction.response.defer(thinking=True, ephemeral=ephemeral)
    interaction.extras[_PLACEHOLDER] = True


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
