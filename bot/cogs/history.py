"""/history: the user's last searches of every kind, each a button that runs it again for
whoever clicks (on their own quota; a cached /ask answer costs nothing)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.rerun import KIND_NAMES, RerunButton
from services.ai.filters import Filters
from services.db.history import PastSearch

if TYPE_CHECKING:
    from bot.client import MarqueeBot

HISTORY_SIZE = 10
KIND_EMOJI = {"search": "🔎", "ask": "✨", "semantic": "🧭"}


def history_embed(searches: list[PastSearch]) -> discord.Embed:
    lines = []
    for number, past in enumerate(searches, start=1):
        when = f"<t:{int(past.created_at.timestamp())}:R>"
        year = f" ({past.year})" if past.year else ""
        if past.filters:
            year += f" ({Filters.stored(past.filters).describe()})"
        found = f" · {len(past.movie_ids)} films" if past.kind in ("ask", "semantic") and past.movie_ids else ""
        kind = KIND_NAMES.get(past.kind, past.kind)
        lines.append(
            f"**{number}.** {KIND_EMOJI.get(past.kind, '')} `{kind}` {embeds.md(past.query, 120)}{year}{found} · {when}"
        )
    embed = discord.Embed(
        title="Your recent searches",
        description="\n".join(lines) or "No searches yet. Try `/ask` or `/search`.",
        colour=embeds.BRAND,
    )
    if searches:
        embed.set_footer(text="Newest first · a button runs that search again")
    return embeds.fit(embed)


def history_view(searches: list[PastSearch]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for number, past in enumerate(searches, start=1):
        view.add_item(
            RerunButton(past.id, label=embeds.plain(f"{number}. {past.query}", 80), emoji=KIND_EMOJI.get(past.kind))
        )
    return view


class History(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="history", description="Your last 10 searches; run any of them again")
    async def history(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        searches = await self.bot.services.searches.recent(interaction.user.id, HISTORY_SIZE)
        await interaction.followup.send(embed=history_embed(searches), view=history_view(searches), ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(RerunButton)
    await bot.add_cog(History(bot))
