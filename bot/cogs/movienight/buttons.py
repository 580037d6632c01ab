"""A movie night's buttons: 1️⃣–5️⃣ vote (one vote per person, changeable) and 🏁 Close (the
host's). Their custom ids carry the night's id; the night itself is in the database, so they
work after a restart and from any process."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import MarqueeItem, reported, services_of
from bot.embeds import md

NUMBERS = ("1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣")


class NightButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:night:(?P<night>\d{1,19}):(?P<action>[1-5]|close)",
):
    def __init__(self, night_id: int, action: str, *, disabled: bool = False) -> None:
        custom_id = f"marquee:night:{night_id}:{action}"
        if action == "close":
            button: discord.ui.Button[Any] = discord.ui.Button(
                label="Close", emoji="🏁", style=discord.ButtonStyle.danger, custom_id=custom_id, disabled=disabled
            )
        else:
            button = discord.ui.Button(
                emoji=NUMBERS[int(action) - 1],
                style=discord.ButtonStyle.primary,
                custom_id=custom_id,
                disabled=disabled,
            )
        super().__init__(button)
        self.night_id, self.action = night_id, action

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> NightButton:
        return cls(int(match["night"]), match["action"])

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)  # the ack, before any database work
        message_id = interaction.message.id if interaction.message else None
        shows = interaction.client.nights  # type: ignore[attr-defined]
        if self.action == "close":
            closing = await shows.close(self.night_id, by=interaction.user.id, message_id=message_id)
            if closing is None:
                text = "Closed: the movie night's message is gone."
            elif closing.winner is None:
                text = "🏁 Closed with no votes, so no winner."
            else:
                text = f"🏁 Closed. **{md(closing.winner.label, 200)}** won."
            await interaction.followup.send(text, ephemeral=True)
            return
        vote = await services_of(interaction).movienight.vote(
            self.night_id, message_id, interaction.user.id, int(self.action)
        )
        if vote.changed:
            shows.touch(self.night_id)
        await interaction.followup.send(f"Your vote: **{md(vote.candidate.label, 200)}**", ephemeral=True)
