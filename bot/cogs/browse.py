"""/browse: TMDB's lists, a page at a time, with paging buttons and a select to open a card."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.components import MarqueeItem, page_button, page_buttons, reported, services_of
from bot.my_services import DESCRIBE, noted
from bot.where import answers_privately, preferences
from services.personal.my_services import OnMyServices
from services.tmdb.models import MovieSummary

if TYPE_CHECKING:
    from bot.client import MarqueeBot

LIST_CHOICES = [app_commands.Choice(name=title, value=kind) for kind, title in embeds.LIST_TITLES.items()]


class BrowsePageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:browse:(?P<kind>[a-z_]{1,20}):(?P<page>\d{1,3}):(?P<owner>\d{1,20})(?P<mine>:mine)?",
):
    """Turns a /browse message to another page, on the owner's services only or not (only for
    the person who ran /browse); "Show all" is the same page with every film."""

    def __init__(
        self, kind: str, page: int, owner_id: int, *, label: str, disabled: bool = False, mine: bool = False
    ) -> None:
        custom_id = f"marquee:browse:{kind}:{page}:{owner_id}" + (":mine" if mine else "")
        super().__init__(page_button(custom_id, label, disabled))
        self.kind, self.page, self.owner_id, self.mine = kind, page, owner_id, mine

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BrowsePageButton:
        label = getattr(item, "label", "") or ""
        return cls(match["kind"], int(match["page"]), int(match["owner"]), label=label, mine=bool(match["mine"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        embed, view = await browse_message(interaction, self.kind, self.page, interaction.user.id, self.mine)
        await interaction.edit_original_response(embed=embed, view=view)


async def browse_message(
    interaction: discord.Interaction, kind: str, number: int, owner_id: int, mine: bool
) -> tuple[discord.Embed, discord.ui.View]:
    """A page of a list as its owner sees it (their region and language); `mine`: only the
    films of that page that stream on their services."""
    services = services_of(interaction)
    prefs = await preferences(interaction, owner_id)
    page = await services.catalog.browse(kind, number, prefs.locale)
    narrowed: OnMyServices[MovieSummary] | None = None
    if mine:
        narrowed = await services.my_services.only(page.results, lambda f: f.id, prefs)
        page = dataclasses.replace(page, results=tuple(narrowed.films))
    genres = await services.catalog.genre_names()
    embed = embeds.film_list(embeds.LIST_TITLES[kind], page, genres, dated=kind in embeds.DATED_LISTS)
    buttons = page_buttons(
        lambda n, label, disabled: BrowsePageButton(kind, n, owner_id, label=label, disabled=disabled, mine=mine),
        page.page,
        page.total_pages,
    )
    if narrowed is not None and narrowed.few:
        buttons.append(BrowsePageButton(kind, page.page, owner_id, label="Show all"))
    return noted(embed, narrowed), list_view(buttons, page.results, f"{kind}_{page.page}", genres)


class Browse(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="browse", description="Browse films: now playing, popular, top rated, upcoming, trending"
    )
    @app_commands.describe(list="Which list to browse", only_my_services=DESCRIBE)
    @app_commands.choices(list=LIST_CHOICES)
    async def browse(
        self,
        interaction: discord.Interaction[MarqueeBot],
        list: app_commands.Choice[str],
        only_my_services: bool = False,
    ) -> None:
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        embed, view = await browse_message(interaction, list.value, 1, interaction.user.id, only_my_services)
        await interaction.followup.send(embed=embed, view=view)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(BrowsePageButton)
    await bot.add_cog(Browse(bot))
