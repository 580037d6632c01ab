"""/ask: films for a request in plain words; the LLM suggests, TMDB confirms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.filters import filter_options, to_filters
from services.ai.ask import AskAnswer

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def answer_embed(answer: AskAnswer, genres: dict[int, str]) -> discord.Embed:
    title = f"Films for “{embeds.md(answer.query, 80)}”"
    footer = f"Suggested by AI, matched on TMDB · {len(answer.picks)} films · Data: TMDB"
    return embeds.picks_list(title, answer.picks, genres, footer=footer)


def answer_view(answer: AskAnswer, genres: dict[int, str]) -> discord.ui.View:
    return list_view(list_feedback_buttons(), [p.film for p in answer.picks], f"ask_{answer.search_id or 0}", genres)


class Ask(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="ask", description="Describe what you feel like watching; AI finds the films")
    @app_commands.describe(query="In plain words, e.g. a heist film with a twist ending, not too long")
    @filter_options
    async def ask(
        self,
        interaction: discord.Interaction[MarqueeBot],
        query: app_commands.Range[str, 1, 200],
        genre: app_commands.Choice[int] | None = None,
        decade: app_commands.Choice[int] | None = None,
        max_runtime: app_commands.Range[int, 30, 300] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        services = self.bot.services
        services.ask.ensure_enabled()  # instant; "not configured" is an ephemeral answer, not a public defer
        filters = to_filters(genre, decade, max_runtime, language)  # instant too: a bad one is ephemeral
        await interaction.response.defer(thinking=True)
        answer = await services.ask.ask(interaction.user.id, query, filters)
        genres = await services.catalog.genre_names()
        await interaction.followup.send(embed=answer_embed(answer, genres), view=answer_view(answer, genres))


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Ask(bot))
