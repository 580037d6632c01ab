"""The command tree: admission (nothing slow before the ack), metrics, and the error path."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.errors import interaction_name, report_error
from bot.where import require_ai_here

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class MarqueeTree(app_commands.CommandTree["MarqueeBot"]):
    async def interaction_check(self, interaction: discord.Interaction[MarqueeBot], /) -> bool:
        if interaction.type is discord.InteractionType.autocomplete:
            return not self.client.inflight.draining  # answers must be instant and need nothing stored
        interaction.extras["started"] = time.perf_counter()
        try:
            # Nothing here touches the database or the network: the command defers first.
            self.client.inflight.admit(interaction)
            if interaction.command is not None and interaction.command.extras.get("ai"):
                require_ai_here(interaction)  # from the server's settings held in memory
        except Exception as exc:
            self._record(interaction, "error")
            await report_error(interaction, exc)
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[MarqueeBot], error: app_commands.AppCommandError, /
    ) -> None:
        self._record(interaction, "error")
        await report_error(interaction, error)

    def _record(self, interaction: discord.Interaction[MarqueeBot], outcome: str) -> None:
        record_interaction(self.client, interaction, outcome)

    def record_success(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        self._record(interaction, "ok")


def record_interaction(bot: MarqueeBot, interaction: discord.Interaction, outcome: str) -> None:
    """Count a command or component run and how long it took."""
    name = interaction_name(interaction)
    if interaction.command is None:
        name = "component:" + name.split(":")[1] if name.startswith("marquee:") else "component"
    metrics = bot.services.metrics
    metrics.commands.labels(name, outcome).inc()
    started = interaction.extras.get("started")
    if started is not None:
        metrics.command_latency.labels(name).observe(time.perf_counter() - started)
