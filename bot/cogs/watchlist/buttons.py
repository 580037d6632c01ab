"""The card's watchlist button: "+ Watchlist" adds the film for whoever clicks; "🗑 Remove from
watchlist" (on their own card of a listed film, and after adding) takes it off."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import MarqueeItem, reported, services_of
from bot.embeds import md
from bot.where import preferences


class WatchlistButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:watchlist:(?P<action>add|remove):(?P<movie_id>\d{1,10})",
):
    def __init__(self, movie_id: int, *, listed: bool = False) -> None:
        action = "remove" if listed else "add"
        super().__init__(
            discord.ui.Button(
                label="Remove from watchlist" if listed else "Watchlist",
                emoji="🗑" if listed else "➕",
                style=discord.ButtonStyle.secondary,
                custom_id=f"marquee:watchlist:{action}:{movie_id}",
            )
        )
        self.movie_id, self.listed = movie_id, listed

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchlistButton:
        return cls(int(match["movie_id"]), listed=match["action"] == "remove")

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        watchlist = services.watchlist
        user = interaction.user.id
        if self.listed:
            change = await watchlist.remove(user, self.movie_id)
            name = md(change.film.label, 200)
            text = (
                f"Removed **{name}** from your watchlist." if change.changed else f"**{name}** isn't on your watchlist."
            )
            after = WatchlistButton(self.movie_id)
        else:
            prefs = await preferences(interaction)
            change = await watchlist.add(user, self.movie_id, prefs.region)
            name = md(change.film.label, 200)
            text = (
                f"Added **{name}** to your watchlist."
                if change.changed
                else f"**{name}** is already on your watchlist."
            )
            after = WatchlistButton(self.movie_id, listed=True)
        view = discord.ui.View(timeout=None)
        view.add_item(after)
        await interaction.followup.send(text, view=view, ephemeral=True)
