"""/browse: TMDB's lists, a page at a time, with paging buttons and a select to open a card."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.components import MarqueeItem, page_button, page_buttons, reported, services_of
from services.tmdb.models import MoviePage

if TYPE_CHECKING:
    from bot.client import MarqueeBot

LIST_CHOICES = [app_commands.Choice(name=title, value=kind) for kind, title in embeds.LIST_TITLES.items()]


class BrowsePageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:browse:(?P<kind>[a-z_]{1,20}):(?P<page>\d{1,3}):(?P<owner>\d{1,20})",
):
    """Turns a /browse message to another page (only for the person who ran /browse)."""

    def __init__(self, kind: str, page: int, owner_id: int, *, label: str, disabled: bool = False) -> None:
        super().__init__(page_button(f"marquee:browse:{kind}:{page}:{owner_id}", label, disabled))
        self.kind, self.page, self.owner_id = kind, page, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BrowsePageButton:
        return cls(match["kind"], int(match["page"]), int(match["owner"]), label=getattr(item, "label", "") or "")

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        services = services_of(interaction)
        page = await services.catalog.browse(self.kind, self.page)
        genres = await services.catalog.genre_names()
        await interaction.edit_original_response(
            embed=list_embed(self.kind, page, genres), view=browse_view(self.kind, page, interaction.user.id, genres)
        )


def list_embed(kind: str, page: MoviePage, genres: dict[int, str]) -> discord.Embed:
    return embeds.film_list(embeds.LIST_TITLES[kind], page, genres, dated=kind in embeds.DATED_LISTS)


def browse_view(kind: str, page: MoviePage, owner_id: int, genres: dict[int, str]) -> discord.ui.View:
    buttons = page_buttons(
        lambda number, label, disabled: BrowsePageButton(kind, number, owner_id, label=label, disabled=disabled),
        page.page,
        page.total_pages,
    )
    return list_view(buttons, page.results, f"{kind}_{page.page}", genres)


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
            embed=list_embed(list.value, page, genres),
            view=browse_view(list.value, page, interaction.user.id, genres),
        )


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(BrowsePageButton)
    await bot.add_cog(Browse(bot))
