"""Buttons and menus that keep working after a restart: each carries what it acts on in its custom_id (discord.py's
DynamicItem, registered at start-up with add_dynamic_items), so no state is held in the bot's memory.

- 👍 / 👎 under an answer (`nd:rate:up|down:<log id>`): the asker's rating; 👎 then asks why;
- the reason menu (`nd:why:<log id>`): wrong, outdated, bad source, not an answer;
- a moderator's menu on a bad-source report (`nd:act:<report id>`): hide, demote or restore a cited article.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord

from index import REASONS, Report

from .calls import server_key, user_key
from .checks import require_moderator
from .render import clip, escape
from .respond import NO_PINGS, defer

if TYPE_CHECKING:
    from .app import NewsdeskBot

THANKS_UP = "Thanks: noted that this answer helped."
ASK_WHY = "Thanks. What was wrong with it? (This helps the moderators improve the sources.)"
ACTIONS = {"hidden": "Hide", "demoted": "Demote", "restore": "Restore"}


def feedback_view(log_id: int) -> discord.ui.View:
    """The 👍 / 👎 buttons of a logged answer."""
    view = discord.ui.View(timeout=None)
    view.add_item(RateButton("up", log_id))
    view.add_item(RateButton("down", log_id))
    return view


async def _guarded(interaction: discord.Interaction, where: str, work: Awaitable[Any]) -> None:
    """Run a component's work; any error goes to the bot's one handler (a private message, nothing stored)."""
    try:
        await work
    except Exception as exc:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        await bot.report(exc, interaction=interaction, where=where)


class RateButton(discord.ui.DynamicItem[discord.ui.Button], template=r"nd:rate:(?P<vote>up|down):(?P<log>\d{1,18})"):
    """👍 or 👎 under an answer: stored for the asker only."""

    def __init__(self, vote: str, log_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"nd:rate:{vote}:{log_id}",
            )
        )
        self.vote, self.log_id = vote, log_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> RateButton:
        """The button as clicked, from its custom_id alone."""
        return cls(match["vote"], int(match["log"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the rating; after 👎, ask why."""
        await _guarded(interaction, "feedback", self._rate(interaction))

    async def _rate(self, interaction: discord.Interaction) -> None:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        await defer(interaction, ephemeral=True)
        up = self.vote == "up"
        await bot.run_engine(
            bot.engine.rate_answer,
            self.log_id,
            server=server_key(interaction.guild_id),
            user=user_key(interaction.user),
            vote=1 if up else -1,
            lane="quick",
        )
        if up:
            await interaction.followup.send(THANKS_UP, ephemeral=True, allowed_mentions=NO_PINGS)
            return
        view = discord.ui.View(timeout=None)
        view.add_item(ReasonSelect(self.log_id))
        await interaction.followup.send(ASK_WHY, view=view, ephemeral=True, allowed_mentions=NO_PINGS)


class ReasonSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"nd:why:(?P<log>\d{1,18})"):
    """Why a 👎: one of the engine's reasons."""

    def __init__(self, log_id: int) -> None:
        options = [discord.SelectOption(label=r[:1].upper() + r[1:], value=r) for r in REASONS]
        super().__init__(
            discord.ui.Select(placeholder="Choose a reason", options=options, custom_id=f"nd:why:{log_id}")
        )
        self.log_id = log_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ReasonSelect:
        """The menu as used, from its custom_id alone."""
        return cls(int(match["log"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Store the reason with the 👎."""
        await _guarded(interaction, "feedback reason", self._reason(interaction))

    async def _reason(self, interaction: discord.Interaction) -> None:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        reason = self.item.values[0] if self.item.values else ""
        await interaction.response.defer()
        await bot.run_engine(
            bot.engine.rate_answer,
            self.log_id,
            server=server_key(interaction.guild_id),
            user=user_key(interaction.user),
            vote=-1,
            reason=reason,
            lane="quick",
        )
        more = " A moderator can review the sources it cited." if reason == "bad source" else ""
        await interaction.edit_original_response(
            content=f"Thanks: noted as “{reason}”.{more}", view=None, allowed_mentions=NO_PINGS
        )


class ActSelect(discord.ui.DynamicItem[discord.ui.Select], template=r"nd:act:(?P<report>\d{1,18})"):
    """A moderator's choice on a bad-source report: hide, demote or restore one of the articles it cited."""

    def __init__(self, report_id: int, options: list[discord.SelectOption] | None = None) -> None:
        super().__init__(
            discord.ui.Select(
                placeholder="Hide, demote or restore a cited article",
                options=options or [discord.SelectOption(label="—", value="none")],
                custom_id=f"nd:act:{report_id}",
            )
        )
        self.report_id = report_id

    @classmethod
    def for_report(cls, report: Report) -> ActSelect:
        """The menu of a report: each cited article with each action."""
        options = [
            discord.SelectOption(
                label=clip(f"{verb}: [{n}] {info.title or info.id}", 100, "…"), value=f"{mode}:{info.id}"
            )
            for n, info in enumerate(report.sources[:8], 1)
            for mode, verb in ACTIONS.items()
        ]
        return cls(report.id, options)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> ActSelect:
        """The menu as used, from its custom_id alone."""
        return cls(int(match["report"]))

    async def callback(self, interaction: discord.Interaction) -> None:
        """Moderators only: hide, demote or restore the chosen article in this server."""
        await _guarded(interaction, "report action", self._act(interaction))

    async def _act(self, interaction: discord.Interaction) -> None:
        bot: NewsdeskBot = interaction.client  # type: ignore[assignment]
        await require_moderator(interaction)
        mode, _, article_id = (self.item.values[0] if self.item.values else "").partition(":")
        await interaction.response.defer()
        info = await bot.run_engine(
            bot.engine.moderate,
            article_id,
            server=server_key(interaction.guild_id),
            mode=None if mode == "restore" else mode,
            actor=user_key(interaction.user),
            report=self.report_id,
            lane="quick",
        )
        done = {"hidden": "Hidden from", "demoted": "Demoted in", "restore": "Restored to"}.get(mode, "Changed in")
        await interaction.followup.send(
            f"{done} this server's answers: **{escape(clip(info.title, 200))}**.",
            ephemeral=True,
            allowed_mentions=NO_PINGS,
        )
