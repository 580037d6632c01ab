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
    template=r"marquee:foryou:(?P<action>more|why):(?P<owner>\d{1,20})",
):
    """The owner's buttons under their picks: "More picks" (another batch in place of this one,
    counted as a /foryou) and "Why these?" (the taste profile, shown to them alone)."""

    def __init__(self, action: str, owner_id: int) -> None:
        label, emoji, style = BUTTONS[action]
        super().__init__(
            discord.ui.Button(label=label, emoji=emoji, style=style, custom_id=f"marquee:foryou:{action}:{owner_id}")
        )
        self.action, self.owner_id = action, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ForYouButton:
        return cls(match["action"], int(match["owner"]))

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
        result = await services.foryou.picks(interaction.user.id)
        genres = await services.catalog.genre_names()
        await interaction.edit_original_response(
            embed=picks_embed(result, genres), view=picks_view(result, interaction.user.id, genres)
        )


def picks_embed(result: ForYouPicks, genres: dict[int, str]) -> discord.Embed:
    footer = "Picked by AI from your searches and watched films · Data: TMDB"
    return embeds.picks_list("Picked for you", result.picks, genres, footer=footer)


def picks_view(result: ForYouPicks, owner_id: int, genres: dict[int, str]) -> discord.ui.View:
    buttons = [ForYouButton("more", owner_id), ForYouButton("why", owner_id)]
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
    async def foryou(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        services = self.bot.services
        services.foryou.ensure_enabled()
        await interaction.response.defer(thinking=True)
        result = await services.foryou.picks(interaction.user.id)
        genres = await services.catalog.genre_names()
        await interaction.followup.send(
            embed=picks_embed(result, genres), view=picks_view(result, interaction.user.id, genres)
        )


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(ForYouButton)
    await bot.add_cog(ForYou(bot))
