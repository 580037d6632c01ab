"""The one registry of searches that can be run again: /history's buttons and the lists' "Show
all". Each feature registers how to run its kind again beside its command (`rerunnable`)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import discord

from bot.components import MarqueeItem, reported, services_of
from services.db.history import PastSearch
from services.errors import BadInput

Rerun = Callable[[discord.Interaction, PastSearch], Awaitable[None]]
RERUNS: dict[str, Rerun] = {}
KIND_NAMES = {"search": "/search", "ask": "/ask", "semantic": "/semantic"}


def rerunnable(kind: str) -> Callable[[Rerun], Rerun]:
    """Register how a kind of search runs again: ephemerally, for whoever clicked, on their quota."""

    def register(rerun: Rerun) -> Rerun:
        RERUNS[kind] = rerun
        return rerun

    return register


class RerunButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:rerun:(?P<search>\d{1,19})",
):
    """Runs a past search again, as the person who clicks it."""

    def __init__(self, search_id: int, *, label: str = "Run again", emoji: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=discord.ButtonStyle.secondary, custom_id=f"marquee:rerun:{search_id}"
            )
        )
        self.search_id = search_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RerunButton:
        return cls(int(match["search"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        past = await services_of(interaction).searches.find(self.search_id)
        rerun = RERUNS.get(past.kind)
        if rerun is None:
            raise BadInput(f"{KIND_NAMES.get(past.kind, 'That')} searches can't be run again from here.")
        await rerun(interaction, past)
