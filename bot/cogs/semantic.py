"""/semantic (Pro): search the embedded catalogue by meaning ("films about obsession")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.gate import pro_command
from services.embeddings.search import SemanticAnswer
from services.runtime import Services

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def semantic_embed(answer: SemanticAnswer, genres: dict[int, str]) -> discord.Embed:
    title = f"Films about “{embeds.md(answer.query, 80)}”"
    footer = f"Search by meaning over the catalogue, nearest first · {len(answer.hits)} films · Data: TMDB"
    return embeds.ranked_list(title, [h.film for h in answer.hits], genres, footer=footer)


def semantic_view(answer: SemanticAnswer, genres: dict[int, str]) -> discord.ui.View:
    return list_view(
        list_feedback_buttons(), [h.film for h in answer.hits], f"semantic_{answer.search_id or 0}", genres
    )


def ai_configured(services: Services) -> None:
    services.embeddings.require()


class Semantic(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="semantic", description="Search films by meaning, e.g. films about obsession (Pro)")
    @app_commands.describe(query="What the film is about, in a few words")
    @pro_command(requires=ai_configured)
    async def semantic(self, interaction: discord.Interaction, query: app_commands.Range[str, 1, 200]) -> None:
        services = self.bot.services
        answer = await services.similarity.semantic(interaction.user.id, query)
        genres = await services.catalog.genre_names()
        await interaction.followup.send(embed=semantic_embed(answer, genres), view=semantic_view(answer, genres))


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Semantic(bot))
