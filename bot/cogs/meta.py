"""/help: what each command does, and the TMDB attribution."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds

if TYPE_CHECKING:
    from bot.client import MarqueeBot

HELP_LINES = (
    ("/browse", "Now playing, popular, top rated, upcoming or trending films, with pages and cards."),
    ("/movie", "A film's card: poster, year, runtime, genres, rating, director, cast, where to watch."),
    ("/trailer", "The film's trailer."),
    ("/search", "Search TMDB by title, optionally by year."),
    ("/watched", "Mark a film as watched; without a title, your watch history."),
    ("/help", "This list."),
)


class Meta(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Marquee can do")
    async def help(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        embed = discord.Embed(title="Marquee", description="Find your next film.", colour=embeds.BRAND)
        for name, text in HELP_LINES:
            embed.add_field(name=name, value=text, inline=False)
        embed.add_field(name="Data", value=embeds.ATTRIBUTION, inline=False)
        embed.set_footer(text="Where-to-watch data by JustWatch")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Meta(bot))
