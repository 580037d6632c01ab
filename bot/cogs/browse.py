"""/browse: TMDB's lists, a page at a time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.components import browse_view

if TYPE_CHECKING:
    from bot.client import MarqueeBot

LIST_CHOICES = [app_commands.Choice(name=title, value=kind) for kind, title in embeds.LIST_TITLES.items()]


class Browse(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="browse", description="Browse films: now playing, popular, top rated, upcoming, trending"
    )
    @app_commands.describe(list="Which list to browse")
    @app_commands.choices(list=LIST_CHOICES)
    async def browse(self, interaction: discord.Interaction[MarqueeBot], list: app_commands.Choice[str]) -> None:
        await interaction.response.defer(thinking=True)
        catalog = self.bot.services.catalog
        page = await catalog.browse(list.value, 1)
        genres = await catalog.genre_names()
        await interaction.followup.send(
            embed=embeds.film_list(embeds.LIST_TITLES[list.value], page, genres),
            view=browse_view(list.value, page, interaction.user.id),
        )


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Browse(bot))
