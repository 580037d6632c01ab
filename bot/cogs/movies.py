"""/movie, /trailer and /search: looking films up on TMDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.autocomplete import film_titles
from bot.components import card_view, results_view

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class Movies(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="movie", description="A film's card: poster, cast, rating and where to watch")
    @app_commands.describe(title="The film's title")
    @app_commands.autocomplete(title=film_titles)
    async def movie(self, interaction: discord.Interaction[MarqueeBot], title: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(thinking=True)
        services = self.bot.services
        film = await services.catalog.resolve(title)
        images = await services.catalog.image_config()
        await interaction.followup.send(
            embed=embeds.film_card(film, images, services.settings.tmdb_region), view=card_view(film)
        )

    @app_commands.command(name="trailer", description="A film's trailer")
    @app_commands.describe(title="The film's title")
    @app_commands.autocomplete(title=film_titles)
    async def trailer(
        self, interaction: discord.Interaction[MarqueeBot], title: app_commands.Range[str, 1, 200]
    ) -> None:
        await interaction.response.defer(thinking=True)
        film = await self.bot.services.catalog.resolve(title)
        trailer = film.trailer
        if trailer is None or trailer.url is None:
            content = f"TMDB has no trailer for **{film.summary.label}** yet."
        else:
            content = f"**{film.summary.label}**: {trailer.name or 'Trailer'}\n{trailer.url}"
        await interaction.followup.send(content)

    @app_commands.command(name="search", description="Search TMDB for films by title")
    @app_commands.describe(query="Words from the title", year="Only films released this year")
    async def search(
        self,
        interaction: discord.Interaction[MarqueeBot],
        query: app_commands.Range[str, 1, 200],
        year: app_commands.Range[int, 1870, 2100] | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True)
        services = self.bot.services
        page = await services.searches.title_search(interaction.user.id, query, year)
        genres = await services.catalog.genre_names()
        shown = f"“{embeds.clamp(query, 80)}”" + (f" ({year})" if year else "")
        if not page.results:
            await interaction.followup.send(f"No films match {shown}.")
        else:
            footer = f"{page.total_results:,} result{'s' * (page.total_results != 1)} · Data: TMDB"
            await interaction.followup.send(
                embed=embeds.film_list(f"Films matching {shown}", page, genres, footer=footer),
                view=results_view(page, f"search_{interaction.id}"),
            )


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Movies(bot))
