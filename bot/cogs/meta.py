"""/help: what each command does, with an example, and the TMDB attribution."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds

if TYPE_CHECKING:
    from bot.client import MarqueeBot

# (command, what it does, an example of its use)
HELP_LINES = (
    ("browse", "Now playing, popular, top rated, upcoming or trending films, with pages and cards.", "list: Popular"),
    ("movie", "A film's card: poster, release date, cast, rating and where to watch.", "title: Arrival"),
    ("trailer", "The film's trailer.", "title: Dune"),
    ("search", "Search TMDB by title, optionally by year; pages of results.", "query: heat year: 1995"),
    ("watched", "Mark a film as watched; without a title, your watch history.", "title: Parasite"),
    ("help", "This list.", ""),
)


def mention(bot: MarqueeBot, name: str) -> str:
    """A clickable `</name:id>` once the command's id is known, else its plain name."""
    command_id = bot.command_ids.get(name)
    return f"</{name}:{command_id}>" if command_id else f"/{name}"


class Meta(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Marquee can do")
    async def help(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        embed = discord.Embed(title="Marquee", description="Find your next film.", colour=embeds.BRAND)
        for name, text, example in HELP_LINES:
            value = f"{text}\ne.g. `/{name} {example}`" if example else text
            embed.add_field(name=f"/{name}", value=f"{mention(self.bot, name)} · {value}", inline=False)
        embed.add_field(name="Data", value=embeds.ATTRIBUTION, inline=False)
        embed.set_footer(text="Where-to-watch data by JustWatch")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Meta(bot))
