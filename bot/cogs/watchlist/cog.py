"""/watchlist: the films a user means to watch, ten a page, sorted as they choose, each openable
as a card with Watched and Remove. The card's "+ Watchlist" button lives in buttons.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.watchlist.view import WatchlistPageButton, WatchlistPick, WatchlistSort, watchlist_message
from bot.where import preferences

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class Watchlist(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="watchlist", description="The films you mean to watch")
    async def watchlist(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        prefs = await preferences(interaction)
        listed = await services.watchlist.page(interaction.user.id, prefs=prefs)
        embed, view = watchlist_message(listed, interaction.user.id)
        await interaction.followup.send(embed=embed, view=view, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    # The card's WatchlistButton is registered with the card's other items (bot/card.py).
    bot.add_dynamic_items(WatchlistPageButton, WatchlistSort, WatchlistPick)
    await bot.add_cog(Watchlist(bot))
