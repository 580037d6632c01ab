"""The command tree: user upsert before every command, metrics, and the error path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import report_error
from services.errors import MarqueeError

if TYPE_CHECKING:
    from bot.client import MarqueeBot


async def register_user(interaction: discord.Interaction) -> bool:
    """Every interaction upserts its user; when that fails the user is told and nothing runs."""
    try:
        await interaction.client.services.users.ensure(interaction.user.id)  # type: ignore[attr-defined]
    except MarqueeError as exc:
        await report_error(interaction, exc)
        return False
    return True


class MarqueeTree(app_commands.CommandTree["MarqueeBot"]):
    async def interaction_check(self, interaction: discord.Interaction[MarqueeBot], /) -> bool:
        if interaction.type is discord.InteractionType.autocomplete:
            return True  # answers must be instant and need nothing stored
        interaction.extras["started"] = time.perf_counter()
        if not await register_user(interaction):
            self._record(interaction, "error")
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[MarqueeBot], error: app_commands.AppCommandError, /
    ) -> None:
        self._record(interaction, "error")
        await report_error(interaction, error)

    def _record(self, interaction: discord.Interaction[MarqueeBot], outcome: str) -> None:
        name = interaction.command.qualified_name if interaction.command else "unknown"
        metrics = self.client.services.metrics
        metrics.commands.inc(name, outcome)
        started = interaction.extras.get("started")
        if started is not None:
            metrics.command_latency.observe(time.perf_counter() - started, name)

    def record_success(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        self._record(interaction, "ok")
