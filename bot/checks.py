"""Who may do what: moderator and add-article checks, enforced in code (permission hints are not enough). A
server's own settings (/settings) name its roles; DISCORD_ADD_ROLE and DISCORD_MODERATOR_ROLE are the defaults."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

if TYPE_CHECKING:
    from .serverconfig import ServerConfig

T = TypeVar("T")


class Refused(app_commands.CheckFailure):
    """A user-facing refusal; its text is shown to the user as is."""


def has_role(member: discord.abc.User, wanted: str | None) -> bool:
    """True if the member has the role named `wanted` (a role name or id; case-insensitive name)."""
    if not wanted or not isinstance(member, discord.Member):
        return False
    wanted = wanted.strip().lstrip("@")
    return any(str(r.id) == wanted or r.name.casefold() == wanted.casefold() for r in member.roles)


def has_any_role(member: discord.abc.User, role_ids: tuple[int, ...]) -> bool:
    """True if the member has one of the roles."""
    return isinstance(member, discord.Member) and any(r.id in role_ids for r in member.roles)


def is_moderator(interaction: discord.Interaction, config: ServerConfig | None = None) -> bool:
    """Manage Server permission (as Discord resolved it for this interaction) or a moderator role: the server's
    own when its settings name them, else the configured one."""
    if interaction.permissions.manage_guild:
        return True
    if config is not None and config.moderator_roles is not None:
        return has_any_role(interaction.user, config.moderator_roles)
    return has_role(interaction.user, interaction.client.settings.moderator_role)  # type: ignore[attr-defined]


def may_add(interaction: discord.Interaction, config: ServerConfig | None = None) -> bool:
    """Everyone when no add role is set; otherwise members with one (the server's own, else the configured
    one), and moderators."""
    if config is not None and config.add_roles is not None:
        allowed = not config.add_roles or has_any_role(interaction.user, config.add_roles)
    else:
        role = interaction.client.settings.add_role  # type: ignore[attr-defined]
        allowed = not role or has_role(interaction.user, role)
    return allowed or is_moderator(interaction, config)


async def server_config(interaction: discord.Interaction) -> ServerConfig | None:
    """The settings of the server an interaction comes from (None outside servers)."""
    configs = getattr(interaction.client, "configs", None)
    if interaction.guild_id is None or configs is None:
        return None
    return await configs.get(interaction.guild_id)


async def require_moderator(interaction: discord.Interaction) -> None:
    """Refuse anyone who is not a moderator of this server."""
    if interaction.guild is None:
        raise Refused("This command works in a server only.")
    if not is_moderator(interaction, await server_config(interaction)):
        raise Refused("Only moderators (Manage Server permission or the moderator role) can do that.")


def moderator_only() -> Callable[[T], T]:
    """App-command check: refuse anyone who is not a moderator."""

    async def predicate(interaction: discord.Interaction) -> bool:
        await require_moderator(interaction)
        return True

    return app_commands.check(predicate)


def adders_only() -> Callable[[T], T]:
    """App-command check: refuse members without an add role."""

    async def predicate(interaction: discord.Interaction) -> bool:
        config = await server_config(interaction)
        if not may_add(interaction, config):
            if config is not None and config.add_roles is not None:
                raise Refused("Only members with the roles this server's moderators chose can add articles.")
            role: Any = interaction.client.settings.add_role  # type: ignore[attr-defined]
            raise Refused(f"Only members with the {role} role can add articles.")
        return True

    return app_commands.check(predicate)
