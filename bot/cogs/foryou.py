"""/foryou: picks from the user's own history, "More picks" for another batch and "Why these?"
for the taste profile they came from."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.components import MarqueeItem, reported, services_of
from bot.filters import filter_options, to_filters
from bot.my_services import DESCRIBE, noted, shown
from bot.where import answers_privately, preferences, require_ai_here
from services.ai.filters import NO_FILTERS, Filters
from services.ai.matching import Pick
from services.ai.schemas import TasteProfile
from services.personal.my_services import OnMyServices

if TYPE_CHECKING:
    from bot.client import MarqueeBot


BUTTONS = {
    "more": ("More picks", "🎲", discord.ButtonStyle.primary),
    "why": ("Why these?", "💡", discord.ButtonStyle.secondary),
    "all": ("Show all", None, discord.ButtonStyle.secondary),
}


class ForYouButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"marquee:foryou:(?P<action>more|why|all):(?P<owner>\d{1,20})(?P<mine>:mine)?"
        r"(?::(?P<genre>\d{0,6}):(?P<decade>\d{0,4}):(?P<runtime>\d{0,3}):(?P<language>[a-z]{0,2}))?"
    ),
):
    """The owner's buttons under their picks: "More picks" (another batch in place of this one,
    with the same filters, counted as a /foryou), "Why these?" (the taste profile, shown to
    them alone) and, under a batch narrowed to their services, "Show all" (the whole batch)."""

    def __init__(self, action: str, owner_id: int, filters: Filters = NO_FILTERS, *, mine: bool = False) -> None:
        label, emoji, style = BUTTONS[action]
        values = (filters.genre, filters.decade, filters.max_runtime, filters.language)
        kept = ":" + ":".join("" if v is None else str(v) for v in values) if filters.any else ""
        custom_id = f"marquee:foryou:{action}:{owner_id}{':mine' if mine else ''}{kept}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action, self.owner_id, self.filters, self.mine = action, owner_id, filters, mine

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForYouButton:
        def number(name: str) -> int | None:
            return int(match[name]) if match[name] else None

        filters = Filters(number("genre"), number("decade"), number("runtime"), match["language"] or None)
        return cls(match["action"], int(match["owner"]), filters, mine=bool(match["mine"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        if self.action == "why":
            await interaction.response.defer(ephemeral=True, thinking=True)
            profile = await services.foryou.profile(interaction.user.id)
            await interaction.followup.send(embed=profile_embed(profile), ephemeral=True)
            return
        if self.action == "all":
            await interaction.response.defer(ephemeral=True, thinking=True)
            picks = await services.foryou.last_picks(interaction.user.id)
            genres = await services.catalog.genre_names()
            owner = interaction.user.id
            await interaction.followup.send(
                embed=picks_embed(picks, genres), view=picks_view(picks, owner, genres, self.filters), ephemeral=True
            )
            return
        require_ai_here(interaction)
        services.foryou.ensure_enabled()
        await interaction.response.defer()
        embed, view = await picks_message(interaction, self.filters, self.mine)
        await interaction.edit_original_response(embed=embed, view=view)


async def picks_message(
    interaction: discord.Interaction, filters: Filters, mine: bool
) -> tuple[discord.Embed, discord.ui.View]:
    """A batch of picks as the user sees it; `mine`: only those on their services."""
    services = services_of(interaction)
    owner = interaction.user.id
    prefs = await preferences(interaction)
    result = await services.foryou.picks(owner, filters, prefs.locale)
    narrowed = await services.my_services.only(result.picks, lambda p: p.film.id, prefs) if mine else None
    picks = shown(result.picks, narrowed)
    genres = await services.catalog.genre_names()
    return noted(picks_embed(picks, genres), narrowed), picks_view(picks, owner, genres, filters, narrowed)


def picks_embed(picks: Sequence[Pick], genres: dict[int, str]) -> discord.Embed:
    footer = "Picked by AI from your searches and watched films · Data: TMDB"
    return embeds.picks_list("Picked for you", picks, genres, footer=footer)


def picks_view(
    picks: Sequence[Pick],
    owner_id: int,
    genres: dict[int, str],
    filters: Filters = NO_FILTERS,
    narrowed: OnMyServices[Pick] | None = None,
) -> discord.ui.View:
    mine = narrowed is not None
    buttons = [ForYouButton("more", owner_id, filters, mine=mine), ForYouButton("why", owner_id)]
    if narrowed is not None and narrowed.few:
        buttons.append(ForYouButton("all", owner_id, filters))  # its "More picks" keeps the filters
    return list_view([*buttons, *list_feedback_buttons()], [p.film for p in picks], f"foryou_{owner_id}", genres)


def profile_embed(profile: TasteProfile) -> discord.Embed:
    embed = discord.Embed(
        title="Your taste, as Marquee sees it",
        description=embeds.md(profile.summary, 1000) or "Not much to go on yet.",
        colour=embeds.BRAND,
    )
    for name, values in (
        ("You like", profile.genres),
        ("Moods", profile.moods),
        ("Themes", profile.themes),
        ("Eras", profile.eras),
        ("You seem to avoid", profile.avoid),
    ):
        if values:
            embed.add_field(name=name, value=embeds.md(", ".join(values), embeds.FIELD_VALUE_MAX), inline=False)
    embed.set_footer(text="Made from your recent searches and watched films; it changes as they do.")
    return embeds.fit(embed)


class ForYou(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="foryou", description="Films picked for you from your searches and watched films", extras={"ai": True}
    )
    @app_commands.describe(only_my_services=DESCRIBE)
    @filter_options
    async def foryou(
        self,
        interaction: discord.Interaction[MarqueeBot],
        genre: app_commands.Choice[int] | None = None,
        decade: app_commands.Choice[int] | None = None,
        max_runtime: app_commands.Range[int, 30, 300] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
        only_my_services: bool = False,
    ) -> None:
        services = self.bot.services
        services.foryou.ensure_enabled()
        filters = to_filters(genre, decade, max_runtime, language)
        await interaction.response.defer(thinking=True, ephemeral=answers_privately(interaction))
        embed, view = await picks_message(interaction, filters, only_my_services)
        await interaction.followup.send(embed=embed, view=view)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(ForYouButton)
    await bot.add_cog(ForYou(bot))
