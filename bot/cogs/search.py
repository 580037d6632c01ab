"""/search: TMDB title search, paged, saved to the user's search history."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.components import MarqueeItem, page_button, page_buttons, reported, services_of
from bot.rerun import rerunnable
from bot.where import answers_privately, preferences
from services.db.history import PastSearch
from services.errors import NoResults
from services.searches import SearchResults

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class SearchPageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:search:(?P<search>\d{1,19}):(?P<page>\d{1,3}):(?P<owner>\d{1,20})",
):
    """Turns a /search message to another page; the query is read back from the history row."""

    def __init__(self, search_id: int, page: int, owner_id: int, *, label: str, disabled: bool = False) -> None:
        super().__init__(page_button(f"marquee:search:{search_id}:{page}:{owner_id}", label, disabled))
        self.search_id, self.page, self.owner_id = search_id, page, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SearchPageButton:
        label = getattr(item, "label", "") or ""
        return cls(int(match["search"]), int(match["page"]), int(match["owner"]), label=label)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        services = services_of(interaction)
        prefs = await preferences(interaction)
        results = await services.searches.page(interaction.user.id, self.search_id, self.page, prefs.locale)
        genres = await services.catalog.genre_names()
        await interaction.edit_original_response(
            embed=results_embed(results, genres), view=results_view(results, interaction.user.id, genres)
        )


def results_embed(results: SearchResults, genres: dict[int, str]) -> discord.Embed:
    page = results.page
    total = f"{page.total_results:,} result{'s' * (page.total_results != 1)}"
    footer = f"Page {page.page} of {page.total_pages} · {total} · Data: TMDB"
    title = f"Films matching “{embeds.md(results.shown, 80)}”"
    return embeds.film_list(title, page, genres, footer=footer)


def results_view(results: SearchResults, owner_id: int, genres: dict[int, str]) -> discord.ui.View:
    page, search_id = results.page, results.search_id
    buttons = []
    if search_id is not None and page.total_pages > 1:  # no history row (database down): one page only
        buttons = page_buttons(
            lambda number, label, disabled: SearchPageButton(
                search_id, number, owner_id, label=label, disabled=disabled
            ),
            page.page,
            page.total_pages,
        )
    return list_view(buttons, page.results, f"search_{search_id or 0}_{page.page}", genres)


class Search(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="search", description="Search TMDB for films by title")
    @app_commands.describe(query="Words from the title", year="Only films released this year")
    async def search(
        self,
        interaction: discord.Interaction[MarqueeBot],
        query: app_commands.Range[str, 1, 200],
        year: app_commands.Range[int, 1870, 2100] | None = None,
    ) -> None:
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        await send_results(interaction, query, year)


async def send_results(
    interaction: discord.Interaction, query: str, year: int | None, *, ephemeral: bool = False
) -> None:
    services = services_of(interaction)
    user = interaction.user.id
    prefs = await preferences(interaction)
    results = await services.searches.title_search(user, query, year, prefs.locale)
    if not results.page.results:
        raise NoResults(results.shown)
    genres = await services.catalog.genre_names()
    await interaction.followup.send(
        embed=results_embed(results, genres), view=results_view(results, user, genres), ephemeral=ephemeral
    )


@rerunnable("search")
async def rerun_search(interaction: discord.Interaction, past: PastSearch) -> None:
    await send_results(interaction, past.query, past.year, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(SearchPageButton)
    await bot.add_cog(Search(bot))
