"""/foryou: picks from the user's own history, "More picks" for another batch and "Why these?"
for the taste profile they came from."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.card import list_view
from bot.cogs.feedback.buttons import list_feedback_buttons
from bot.components import MarqueeItem, reported, services_of
from bot.filters import filter_options, to_filters
from services.ai.filters import NO_FILTERS, Filters
from services.ai.foryou import ForYouPicks
from services.ai.schemas import TasteProfile

if TYPE_CHECKING:
    from bot.client import MarqueeBot


BUTTONS = {
    "more": ("More picks", "🎲", discord.ButtonStyle.primary),
    "why": ("Why these?", "💡", discord.ButtonStyle.secondary),
}


class ForYouButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=(
        r"marquee:foryou:(?P<action>more|why):(?P<owner>\d{1,20})"
        r"(?::(?P<genre>\d{0,6}):(?P<decade>\d{0,4}):(?P<runtime>\d{0,3}):(?P<language>[a-z]{0,2}))?"
    ),
):
    """The owner's buttons under their picks: "More picks" (another batch in place of this one,
    with the same filters, counted as a /foryou) and "Why these?" (the taste profile, shown to
    them alone)."""

    def __init__(self, action: str, owner_id: int, filters: Filters = NO_FILTERS) -> None:
        label, emoji, style = BUTTONS[action]
        values = (filters.genre, filters.decade, filters.max_runtime, filters.language)
        kept = ":" + ":".join("" if v is None else str(v) for v in values) if filters.any else ""
        custom_id = f"marquee:foryou:{action}:{owner_id}{kept}"
        super().__init__(discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=custom_id))
        self.action, self.owner_id, self.filters = action, owner_id, filters

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForYouButton:
        def number(name: str) -> int | None:
            return int(match[name]) if match[name] else None

        filters = Filters(number("genre"), number("decade"), number("runtime"), match["language"] or None)
        return cls(match["action"], int(match["owner"]), filters)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        if self.action == "why":
            await interaction.response.defer(ephemeral=True, thinking=True)
            profile = await services.foryou.profile(interaction.user.id)
            await interaction.followup.send(embed=profile_embed(profile), ephemeral=True)
            return
        services.foryou.ensure_enabled()
        await interaction.response.defer()
        result = await services.foryou.picks(interaction.user.id, self.filters)
        genres = await services.catalog.genre_names()
        await interaction.edit_original_response(
            embed=picks_embed(result, genres), view=picks_view(result, interaction.user.id, genres, self.filters)
        )


def picks_embed(result: ForYouPicks, genres: dict[int, str]) -> discord.Embed:
    footer = "Picked by AI from your searches and watched films · Data: TMDB"
    return embeds.picks_list("Picked for you", result.picks, genres, footer=footer)


def picks_view(
    result: ForYouPicks, owner_id: int, genres: dict[int, str], filters: Filters = NO_FILTERS
) -> discord.ui.View:
    buttons = [ForYouButton("more", owner_id, filters), ForYouButton("why", owner_id)]
    return list_view([*buttons, *list_feedback_buttons()], [p.film for p in result.picks], f"foryou_{owner_id}", genres)


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

    @app_commands.command(name="foryou", description="Films picked for you from your searches and watched films")
    @filter_options
    async def foryou(
        self,
        interaction: discord.Interaction[MarqueeBot],
        genre: app_commands.Choice[int] | None = None,
        decade: app_commands.Choice[int] | None = None,
        max_runtime: app_commands.Range[int, 30, 300] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
    ) -> None:
        services = self.bot.services
        services.foryou.ensure_enabled()
        filters = to_filters(genre, decade, max_runtime, language)
        await interaction.response.defer(thinking=True)
        result = await services.foryou.picks(interaction.user.id, filters)
        genres = await services.catalog.genre_names()
        await interaction.followup.send(
            embed=picks_embed(result, genres), view=picks_view(result, interaction.user.id, genres, filters)
        )


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(ForYouButton)
    await bot.add_cog(ForYou(bot))
