"""The Pro gate: one decorator for every Pro command. It defers first (the tier is a database
read, never done before the ack), then lets Pro users through; free users get the upsell that
names /upgrade. With billing off the gate is open."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord

from services.runtime import Services

P = ParamSpec("P")
CogT = TypeVar("CogT")


def pro_command(
    *, ephemeral: bool = False, requires: Callable[[Services], object] | None = None
) -> Callable[
    [Callable[Concatenate[CogT, discord.Interaction, P], Coroutine[Any, Any, None]]],
    Callable[Concatenate[CogT, discord.Interaction, P], Coroutine[Any, Any, None]],
]:
    """Wrap a Pro command's callback, which then finds the interaction already deferred.
    `requires(services)` is an instant check run before the defer (e.g. that AI is configured),
    so that its refusal is an ephemeral answer rather than a public "thinking…"."""

    def decorate(
        callback: Callable[Concatenate[CogT, discord.Interaction, P], Coroutine[Any, Any, None]],
    ) -> Callable[Concatenate[CogT, discord.Interaction, P], Coroutine[Any, Any, None]]:
        @functools.wraps(callback)
        async def gated(self: CogT, interaction: discord.Interaction, *args: P.args, **kwargs: P.kwargs) -> None:
            services: Services = interaction.client.services  # type: ignore[attr-defined]
            if requires is not None:
                requires(services)
            await interaction.response.defer(ephemeral=ephemeral, thinking=True)
            name = interaction.command.name if interaction.command else "that"
            await services.billing.require_pro(interaction.user.id, name)
            await callback(self, interaction, *args, **kwargs)

        return gated

    return decorate
