"""The Pro gate: one decorator for every Pro command. It defers first (the tier is a database
read, never done before the ack), then lets Pro users through; free users get the upsell that
names /upgrade. With billing off the gate is open.

It is an app-command check, not a wrapper: discord.py reads a command's parameters (and
resolves their annotations) from the callback itself, which a wrapper would hide. A refusal
travels as `GateClosed` to the tree's one error path, which tells the user the domain error's
own message (bot/errors.py unwraps it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.where import answers_privately
from services.errors import MarqueeError
from services.runtime import Services

F = TypeVar("F", bound=Callable[..., Any])


class GateClosed(app_commands.CheckFailure):
    """A Pro command refused; its cause is the MarqueeError the user is told about."""


def pro_command(*, ephemeral: bool = False, requires: Callable[[Services], object] | None = None) -> Callable[[F], F]:
    """Gate a Pro command, whose callback then finds the interaction already deferred.
    `requires(services)` is an instant check run before the defer (e.g. that AI is configured),
    so that its refusal is an ephemeral answer rather than a public "thinking…"."""

    async def predicate(interaction: discord.Interaction) -> bool:
        services: Services = interaction.client.services  # type: ignore[attr-defined]
        try:
            if requires is not None:
                requires(services)
            await interaction.response.defer(ephemeral=ephemeral or answers_privately(interaction), thinking=True)
            name = interaction.command.name if interaction.command else "that"
            await services.billing.require_pro(interaction.user.id, name)
        except MarqueeError as exc:
            raise GateClosed(str(exc)) from exc
        return True

    return app_commands.check(predicate)
