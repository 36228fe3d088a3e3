"""/stats (moderators): this server's questions per day, the not-covered rate, the coverage gaps (questions the
articles did not answer, grouped) and the worst-rated answers; `newsdesk stats --json` gives the same figures."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..calls import server_key
from ..checks import moderator_only
from ..render import clip, escape
from ..respond import defer, edit_original

if TYPE_CHECKING:
    from ..app import NewsdeskBot

FIELD_MAX = 1024
DAYS_SHOWN = 14


def _lines(lines: list[str], empty: str) -> str:
    """Lines joined, as many as fit in a field."""
    out: list[str] = []
    for line in lines:
        if sum(len(x) + 1 for x in out) + len(line) > FIELD_MAX - 2:
            break
        out.append(line)
    return "\n".join(out) or empty


def stats_embed(stats: dict) -> discord.Embed:
    """The figures as an embed within Discord's limits."""
    rate = f"{stats['not_covered_rate']:.0%}"
    embed = discord.Embed(
        title=f"Questions in the last {stats['days']} day(s)",
        description=f"**{stats['questions']}** asked, **{stats['not_covered']}** not covered "
        f"({rate}); 👍 {stats['ratings']['up']} · 👎 {stats['ratings']['down']}",
    )
    if not stats["logging"]:
        embed.description = (embed.description or "") + "\nThe question log is off (NEWSDESK_QUESTION_LOG_DAYS=0)."
    days = [
        f"`{d['day']}` {d['questions']} asked, {d['not_covered']} not covered" for d in stats["per_day"][-DAYS_SHOWN:]
    ]
    embed.add_field(name="Per day (UTC)", value=_lines(days, "No questions yet."), inline=False)
    gaps = [
        f"**{g['count']}×** {escape(', '.join(g['terms']))}: “{escape(clip(g['questions'][0], 150))}”"
        for g in stats["gaps"]
    ]
    embed.add_field(name="Coverage gaps (not covered, grouped)", value=_lines(gaps, "None."), inline=False)
    worst = [
        f"👎 {w['down']} 👍 {w['up']} “{escape(clip(w['question'], 150))}”"
        + (f" ({escape(', '.join(w['reasons']))})" if w["reasons"] else "")
        for w in stats["worst_rated"]
    ]
    embed.add_field(name="Worst-rated answers", value=_lines(worst, "None."), inline=False)
    return embed


class Stats(commands.Cog):
    """What this server asked and how it went."""

    def __init__(self, bot: NewsdeskBot) -> None:
        self.bot = bot

    @app_commands.command(name="stats", description="Questions, coverage gaps and worst-rated answers (moderators)")
    @app_commands.describe(days="How many days back (default 30)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @moderator_only()
    async def stats(self, interaction: discord.Interaction, days: app_commands.Range[int, 1, 365] = 30) -> None:
        """Shown to the moderator only."""
        await defer(interaction, ephemeral=True)
        figures = await self.bot.run_engine(
            self.bot.engine.stats, server_key(interaction.guild_id), days=days, lane="quick"
        )
        await edit_original(interaction, embed=stats_embed(figures))
