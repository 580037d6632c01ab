"""/history: the user's last searches of every kind, each a button that runs it again for
whoever clicks (on their own quota; a cached /ask answer costs nothing)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.cogs.ask import answer_embed, answer_view
from bot.cogs.search import results_embed, results_view
from bot.cogs.semantic import semantic_embed, semantic_view
from bot.components import MarqueeItem, reported, services_of
from services.ai.filters import Filters
from services.db.history import PastSearch
from services.errors import BadInput, NoResults

if TYPE_CHECKING:
    from bot.client import MarqueeBot

HISTORY_SIZE = 10
KIND_EMOJI = {"search": "🔎", "ask": "✨", "semantic": "🧭"}
KIND_NAMES = {"search": "/search", "ask": "/ask", "semantic": "/semantic"}


class RerunButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:rerun:(?P<search>\d{1,19})",
):
    """Runs a past search again, as the person who clicks it."""

    def __init__(self, search_id: int, *, label: str = "Run again", emoji: str | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=label, emoji=emoji, style=discord.ButtonStyle.secondary, custom_id=f"marquee:rerun:{search_id}"
            )
        )
        self.search_id = search_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RerunButton:
        return cls(int(match["search"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        past = await services.searches.find(self.search_id)
        user = interaction.user.id
        genres = await services.catalog.genre_names()
        if past.kind == "ask":
            answer = await services.ask.ask(user, past.query, Filters.stored(past.filters))
            await interaction.followup.send(
                embed=answer_embed(answer, genres), view=answer_view(answer, genres), ephemeral=True
            )
        elif past.kind == "search":
            results = await services.searches.title_search(user, past.query, past.year)
            if not results.page.results:
                raise NoResults(results.shown)
            await interaction.followup.send(
                embed=results_embed(results, genres), view=results_view(results, user, genres), ephemeral=True
            )
        elif past.kind == "semantic":
            services.embeddings.require()
            await services.billing.require_pro(user, "semantic")
            semantic = await services.similarity.semantic(user, past.query)
            await interaction.followup.send(
                embed=semantic_embed(semantic, genres), view=semantic_view(semantic, genres), ephemeral=True
            )
        else:
            raise BadInput(f"{KIND_NAMES.get(past.kind, 'That')} searches can't be run again from here.")


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
