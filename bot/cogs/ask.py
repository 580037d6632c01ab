"""/ask: films for a request in plain words; the LLM suggests, TMDB confirms."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.components import services_of
from bot.filters import filter_options, to_filters
from bot.my_services import DESCRIBE, noted, show_all, shown
from bot.rerun import rerunnable
from bot.where import answers_privately, preferences, require_ai_here
from services.ai.ask import AskAnswer
from services.ai.filters import Filters
from services.ai.matching import Pick
from services.db.history import PastSearch
from services.personal.my_services import OnMyServices

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def answer_embed(
    answer: AskAnswer, genres: dict[int, str], narrowed: OnMyServices[Pick] | None = None
) -> discord.Embed:
    picks = shown(answer.picks, narrowed)
    title = f"Films for “{embeds.md(answer.query, 80)}”"
    footer = f"Suggested by AI, matched on TMDB · {len(picks)} films · Data: TMDB"
    return noted(embeds.picks_list(title, picks, genres, footer=footer), narrowed)


def answer_view(
    answer: AskAnswer, genres: dict[int, str], narrowed: OnMyServices[Pick] | None = None
) -> discord.ui.View:
    buttons = [*list_feedback_buttons(), *show_all(narrowed, answer.search_id)]
    films = [p.film for p in shown(answer.picks, narrowed)]
    return list_view(buttons, films, f"ask_{answer.search_id or 0}", genres)


async def send_answer(
    interaction: discord.Interaction, query: str, filters: Filters, *, mine: bool = False, ephemeral: bool = False
) -> None:
    """Answer as the user sees it (their region and language); `mine`: only the films on their services."""
    services = services_of(interaction)
    prefs = await preferences(interaction)
    answer = await services.ask.ask(interaction.user.id, query, filters, prefs.locale)
    narrowed = await services.my_services.only(answer.picks, lambda p: p.film.id, prefs) if mine else None
    genres = await services.catalog.genre_names()
    await interaction.followup.send(
        embed=answer_embed(answer, genres, narrowed), view=answer_view(answer, genres, narrowed), ephemeral=ephemeral
    )


@rerunnable("ask")
async def rerun_ask(interaction: discord.Interaction, past: PastSearch) -> None:
    require_ai_here(interaction)
    services_of(interaction).ask.ensure_enabled()
    await send_answer(interaction, past.query, Filters.stored(past.filters), ephemeral=True)


class Ask(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="ask", description="Describe what you feel like watching; AI finds the films", extras={"ai": True}
    )
    @app_commands.describe(
        query="In plain words, e.g. a heist film with a twist ending, not too long", only_my_services=DESCRIBE
    )
    @filter_options
    async def ask(
        self,
        interaction: discord.Interaction[MarqueeBot],
        query: app_commands.Range[str, 1, 200],
        genre: app_commands.Choice[int] | None = None,
        decade: app_commands.Choice[int] | None = None,
        max_runtime: app_commands.Range[int, 30, 300] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
        only_my_services: bool = False,
    ) -> None:
        services = self.bot.services
        services.ask.ensure_enabled()  # instant; "not configured" is an ephemeral answer, not a public defer
        filters = to_filters(genre, decade, max_runtime, language)  # instant too: a bad one is ephemeral
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        await send_answer(interaction, query, filters, mine=only_my_services)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Ask(bot))
