"""/help: what each command does, with an example, and the TMDB attribution."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.where import ai_allowed_here

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class HelpLine(NamedTuple):
    name: str
    text: str
    example: str = ""  # its options, as typed after the command
    pro: bool = False  # behind the Pro gate (open to everyone with billing off)


HELP_LINES = (
    HelpLine(
        "browse", "Now playing, popular, top rated, upcoming or trending films, with pages and cards.", "list: Popular"
    ),
    HelpLine("movie", "A film's card: poster, release date, cast, rating and where to watch.", "title: Arrival"),
    HelpLine("trailer", "The film's trailer.", "title: Dune"),
    HelpLine("search", "Search TMDB by title, optionally by year; pages of results.", "query: heat year: 1995"),
    HelpLine(
        "ask",
        "Describe what you feel like watching, in plain words; AI finds real films.",
        "query: a heist film with a twist, not too long",
    ),
    HelpLine("foryou", "Picks made from your searches and watched films; never one you've seen."),
    HelpLine(
        "movienight",
        "Films for a group, picked from everyone's taste, with a live vote (in servers).",
        "member1: @ana member2: @bo duration: 20",
    ),
    HelpLine("similar", "Films like one you love, nearest by meaning.", "title: Arrival"),
    HelpLine("semantic", "Search the catalogue by meaning.", "query: films about obsession", pro=True),
    HelpLine("history", "Your last 10 searches; a button runs any of them again."),
    HelpLine("watched", "Mark a film as watched; without a title, your watch history.", "title: Parasite"),
    HelpLine("watchlist", "Films you mean to watch, to sort and open; add one with + Watchlist on any card."),
    HelpLine(
        "settings",
        "Your region, language, streaming services, spoiler mode and availability alerts.",
        "region: United Kingdom (GB)",
    ),
    HelpLine(
        "import letterboxd",
        "Bring in your films from Letterboxd's export (also `/import imdb`, and `/import trakt` when it's on).",
        "file: letterboxd-export.zip",
    ),
    HelpLine("mydata", "What Marquee keeps about you: see it, download it, or delete it all."),
    HelpLine(
        "server-settings",
        "Server admins: the server's region and language, AI commands on or off, public or ephemeral answers.",
        "answers: Ephemeral",
    ),
    HelpLine("upgrade", "Marquee Pro: the checkout link comes by DM."),
    HelpLine("plan", "Your plan, its renewal date, and a button to manage billing."),
    HelpLine("help", "This list."),
)


def mention(bot: MarqueeBot, name: str) -> str:
    """A clickable `</name:id>` once the command's id is known, else its plain name."""
    command_id = bot.command_ids.get(name.split()[0])  # a subcommand is mentioned by its group's id
    return f"</{name}:{command_id}>" if command_id else f"/{name}"


def is_ai(bot: MarqueeBot, name: str) -> bool:
    """Whether the command needs the AI (marked where it is declared: `extras={"ai": True}`)."""
    command = bot.tree.get_command(name.split()[0])
    return command is not None and bool(command.extras.get("ai"))


class Meta(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="help", description="What Marquee can do")
    async def help(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        ai_on = self.bot.settings.ai_enabled
        here = ai_allowed_here(interaction)
        description = "Find your next film."
        if not ai_on:
            description += " AI features are not configured on this bot, so the commands marked AI are off."
        elif not here:
            description += " This server's admins turned AI commands off here, so the commands marked AI are off."
        embed = discord.Embed(title="Marquee", description=description, colour=embeds.BRAND)
        for line in HELP_LINES:
            value = f"{line.text}\ne.g. `/{line.name} {line.example}`" if line.example else line.text
            if line.pro:
                value = f"Pro · {value}"
            if is_ai(self.bot, line.name):
                off = "" if ai_on and here else " (off on this bot)" if not ai_on else " (off here)"
                value = f"**AI{off}** · {value}"
            embed.add_field(name=f"/{line.name}", value=f"{mention(self.bot, line.name)} · {value}", inline=False)
        embed.add_field(name="Data", value=embeds.ATTRIBUTION, inline=False)
        embed.set_footer(text="Where-to-watch data by JustWatch")
        await interaction.response.send_message(embed=embed, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Meta(bot))
