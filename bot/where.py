"""Where an interaction happens, and what that decides before the ack (never a database read):
the server's settings as this process holds them, whether its answers are public, whether AI
commands may run there, and whether Marquee is installed there at all.

Marquee can be used where it is not installed (a user's own install, in a server without the
bot or a group DM): there the bot cannot reach the channel, so every answer is ephemeral and
nothing is posted to the channel by REST."""

from __future__ import annotations

import discord

from services.errors import AIOffHere
from services.personal.settings import Preferences
from services.server_settings import DEFAULT, ServerSettings


def installed_here(interaction: discord.Interaction) -> bool:
    """The bot itself can reach this channel: a DM with it, or a server it was added to."""
    return interaction.context.dm_channel or interaction.is_guild_integration()


def server_of(interaction: discord.Interaction) -> ServerSettings:
    """The settings of the server the interaction comes from (held in memory; the defaults in
    a DM, and in a server Marquee is not in)."""
    if not interaction.is_guild_integration():
        return DEFAULT
    return interaction.client.services.server_settings.held(interaction.guild_id)  # type: ignore[attr-defined]


def answers_privately(interaction: discord.Interaction) -> bool:
    """Whether a command that answers publicly answers ephemerally here: the server asked for
    it, or Marquee is not installed where it was used."""
    return not installed_here(interaction) or server_of(interaction).ephemeral


def require_ai_here(interaction: discord.Interaction) -> None:
    """AIOffHere when the server's admins turned AI commands off (instant: before any ack)."""
    if not server_of(interaction).ai_commands:
        raise AIOffHere()


def ai_allowed_here(interaction: discord.Interaction) -> bool:
    return server_of(interaction).ai_commands


async def preferences(interaction: discord.Interaction, user_id: int | None = None) -> Preferences:
    """A user's preferences as they apply here: their own, then the server's defaults, then the bot's."""
    services = interaction.client.services  # type: ignore[attr-defined]
    settings = services.user_settings
    server = server_of(interaction)
    defaults = server.locale(settings.defaults) if server is not DEFAULT else None
    prefs: Preferences = await settings.get(user_id or interaction.user.id, defaults)
    return prefs
