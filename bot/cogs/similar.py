"""/similar: the films nearest one film by embedding, or TMDB's recommendations when the AI is
off or the film cannot be embedded now (the footer says which). The card's Similar button
(bot/card.py) is answered here too."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.autocomplete import film_titles
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.where import ai_allowed_here, answers_privately
from services.embeddings.search import SimilarFilms

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def similar_embed(result: SimilarFilms, genres: dict[int, str]) -> discord.Embed:
    title = f"Films like {embeds.md(result.source.summary.label, 200)}"  # TMDB's text: escaped like the card's
    if result.fallback is None:
        footer = f"Nearest by meaning first (AI embeddings) · {len(result.hits)} films · Data: TMDB"
    else:
        footer = f"TMDB's recommendations: {result.fallback} · Data: TMDB"
    return embeds.ranked_list(title, [h.film for h in result.hits], genres, footer=footer)


def similar_view(result: SimilarFilms, genres: dict[int, str]) -> discord.ui.View:
    return list_view(list_feedback_buttons(), [h.film for h in result.hits], f"similar_{result.source.id}", genres)


class Similar(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="similar", description="Films like one you love, found by meaning")
    @app_commands.describe(title="The film's title")
    @app_commands.autocomplete(title=film_titles)
    async def similar(
        self, interaction: discord.Interaction[MarqueeBot], title: app_commands.Range[str, 1, 200]
    ) -> None:
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        services = self.bot.services
        film = (await services.catalog.resolve(title)).film
        result = await services.similarity.similar(interaction.user.id, film, ai=ai_allowed_here(interaction))
        genres = await services.catalog.genre_names()
        await interaction.followup.send(embed=similar_embed(result, genres), view=similar_view(result, genres))

    async def show_similar(self, interaction: discord.Interaction, movie_id: int) -> None:
        """The card's Similar button: the same list, for whoever clicked."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        film = await services.catalog.details(movie_id)
        result = await services.similarity.similar(interaction.user.id, film, ai=ai_allowed_here(interaction))
        genres = await services.catalog.genre_names()
        await interaction.followup.send(
            embed=similar_embed(result, genres), view=similar_view(result, genres), ephemeral=True
        )


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Similar(bot))
