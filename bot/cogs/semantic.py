"""/semantic (Pro): search the embedded catalogue by meaning ("films about obsession")."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.components import services_of
from bot.gate import pro_command
from bot.my_services import DESCRIBE, noted, show_all, shown
from bot.rerun import rerunnable
from bot.where import preferences, require_ai_here
from services.db.history import PastSearch
from services.embeddings.search import Hit, SemanticAnswer
from services.personal.my_services import OnMyServices
from services.runtime import Services

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def semantic_embed(
    answer: SemanticAnswer, genres: dict[int, str], narrowed: OnMyServices[Hit] | None = None
) -> discord.Embed:
    hits = shown(answer.hits, narrowed)
    title = f"Films about “{embeds.md(answer.query, 80)}”"
    footer = f"Search by meaning over the catalogue, nearest first · {len(hits)} films · Data: TMDB"
    return noted(embeds.ranked_list(title, [h.film for h in hits], genres, footer=footer), narrowed)


def semantic_view(
    answer: SemanticAnswer, genres: dict[int, str], narrowed: OnMyServices[Hit] | None = None
) -> discord.ui.View:
    buttons = [*list_feedback_buttons(), *show_all(narrowed, answer.search_id)]
    films = [h.film for h in shown(answer.hits, narrowed)]
    return list_view(buttons, films, f"semantic_{answer.search_id or 0}", genres)


async def send_semantic(
    interaction: discord.Interaction, query: str, *, mine: bool = False, ephemeral: bool = False
) -> None:
    services = services_of(interaction)
    answer = await services.similarity.semantic(interaction.user.id, query)
    narrowed = None
    if mine:
        prefs = await preferences(interaction)
        narrowed = await services.my_services.only(answer.hits, lambda h: h.film.id, prefs)
    genres = await services.catalog.genre_names()
    await interaction.followup.send(
        embed=semantic_embed(answer, genres, narrowed),
        view=semantic_view(answer, genres, narrowed),
        ephemeral=ephemeral,
    )


@rerunnable("semantic")
async def rerun_semantic(interaction: discord.Interaction, past: PastSearch) -> None:
    require_ai_here(interaction)
    services = services_of(interaction)
    services.embeddings.require()
    await services.billing.require_pro(interaction.user.id, "semantic")
    await send_semantic(interaction, past.query, ephemeral=True)


def ai_configured(services: Services) -> None:
    services.embeddings.require()


class Semantic(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="semantic", description="Search films by meaning, e.g. films about obsession (Pro)", extras={"ai": True}
    )
    @app_commands.describe(query="What the film is about, in a few words", only_my_services=DESCRIBE)
    @pro_command(requires=ai_configured)
    async def semantic(
        self,
        interaction: discord.Interaction,
        query: app_commands.Range[str, 1, 200],
        only_my_services: bool = False,
    ) -> None:
        await send_semantic(interaction, query, mine=only_my_services)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Semantic(bot))
