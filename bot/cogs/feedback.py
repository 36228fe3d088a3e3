"""/reports (moderators): the answers members marked 👎 for a bad source, with a menu to hide, demote or restore
each article they cited (in this server only)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..calls import server_key
from ..checks import moderator_only
from ..render import clip, escape
from ..respond import defer, edit_original
from ..views import ActSelect

if TYPE_CHECKING:
    from ..app import NewsdeskBot

REPORTS = 5  # one menu a report, and a message holds five rows of components


class Feedback(commands.Cog):
    """Moderators acting on feedback."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="reports", description="Answers marked 👎 for a bad source: hide or demote what they cited (moderators)"
    )
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def reports(self, interaction: discord.Interaction) -> None:
        """The latest bad-source reports, each with its cited articles and a menu of actions."""
        await defer(interaction, ephemeral=True)
        found = await self.bot.run_engine(
            self.bot.engine.reports, server_key(interaction.guild_id), limit=REPORTS, lane="quick"
        )
        if not found:
            await edit_original(interaction, content="No answer has been marked 👎 for a bad source.")
            return
        embeds, view = [], discord.ui.View(timeout=None)
        for report in found:
            sources = "\n".join(
                f"[{n}] {escape(clip(s.title or s.id, 150))}" + (f" · {s.moderation}" if s.moderation else "")
                for n, s in enumerate(report.sources, 1)
            )
            embeds.append(
                discord.Embed(
                    title=clip(f"Report {report.id}: {escape(report.question)}", 250),
                    description=sources or "The articles it cited are gone.",
                )
            )
            if report.sources:
                view.add_item(ActSelect.for_report(report))
        await edit_original(interaction, content="Choose what to do with a cited article:", embeds=embeds, view=view)
