"""/movie and /trailer: one film, looked up on TMDB."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.autocomplete import film_titles
from bot.card import card_view, film_card
from bot.embeds import md
from bot.where import answers_privately, preferences
from services.errors import NoTrailer

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class Movies(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="movie", description="A film's card: poster, cast, rating and where to watch")
    @app_commands.describe(title="The film's title")
    @app_commands.autocomplete(title=film_titles)
    async def movie(self, interaction: discord.Interaction[MarqueeBot], title: app_commands.Range[str, 1, 200]) -> None:
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        services = self.bot.services
        prefs = await preferences(interaction)  # the card is made for who asked
        resolved = await services.catalog.resolve(title, prefs.locale)
        images = await services.catalog.image_config()
        genres = await services.catalog.genre_names() if resolved.others else {}
        await interaction.followup.send(
            embed=film_card(resolved.film, images, prefs),
            view=card_view(resolved.film, resolved.others, genres),
        )

    @app_commands.command(name="trailer", description="A film's trailer")
    @app_commands.describe(title="The film's title")
    @app_commands.autocomplete(title=film_titles)
    async def trailer(
        self, interaction: discord.Interaction[MarqueeBot], title: app_commands.Range[str, 1, 200]
    ) -> None:
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        film = (await self.bot.services.catalog.resolve(title)).film
        trailer = film.trailer
        if trailer is None or trailer.url is None:
            raise NoTrailer(film.summary.label)
        await interaction.followup.send(
            f"**{md(film.summary.label, 200)}**: {md(trailer.name or 'Trailer', 200)}\n{trailer.url}"
        )


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Movies(bot))
