"""Who may do what: moderator and add-article checks, enforced in code (permission hints are not enough)."""

from __future__ import annotations

from typing import Any, Callable, TypeVar

import discord
from discord import app_commands

T = TypeVar("T")


class Refused(app_commands.CheckFailure):
    """A user-facing refusal; its text is shown to the user as is."""


def has_role(member: discord.abc.User, wanted: str | None) -> bool:
    """True if the member has the role named `wanted` (a role name or id; case-insensitive name)."""
    if not wanted or not isinstance(member, discord.Member):
        return False
    wanted = wanted.strip().lstrip("@")
    return any(str(r.id) == wanted or r.name.casefold() == wanted.casefold() for r in member.roles)


def is_moderator(interaction: discord.Interaction) -> bool:
    """Manage Server permission (as Discord resolved it for this interaction) or the configured moderator role."""
    settings = interaction.client.settings  # type: ignore[attr-defined]
    return interaction.permissions.manage_guild or has_role(interaction.user, settings.moderator_role)


def may_add(interaction: discord.Interaction) -> bool:
    """Everyone when no add role is configured; otherwise members with that role, and moderators."""
    role = interaction.client.settings.add_role  # type: ignore[attr-defined]
    return not role or has_role(interaction.user, role) or is_moderator(interaction)


def moderator_only() -> Callable[[T], T]:
    """App-command check: refuse anyone who is not a moderator."""
    def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild is None:
            raise Refused("This command works in a server only.")
        if not is_moderator(interaction):
            raise Refused("Only moderators (Manage Server permission or the moderator role) can do that.")
        return True
    return app_commands.check(predicate)


def adders_only() -> Callable[[T], T]:
    """App-command check: refuse members without the configured add role."""
    def predicate(interaction: discord.Interaction) -> bool:
        if not may_add(interaction):
            role: Any = interaction.client.settings.add_role  # type: ignore[attr-defined]
            raise Refused(f"Only members with the {role} role can add articles.")
        return True
    return app_commands.check(predicate)
