"""/watched: mark a film watched, or see your watch history."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.autocomplete import film_titles
from bot.components import watched_message

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class Watched(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="watched", description="Mark a film as watched, or see your watch history")
    @app_commands.describe(title="The film you watched (leave empty to see your history)")
    @app_commands.autocomplete(title=film_titles)
    async def watched(
        self,
        interaction: discord.Interaction[MarqueeBot],
        title: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        watch = self.bot.services.watch
        if title is None:
            history = await watch.recent(interaction.user.id)
            await interaction.followup.send(embed=embeds.watch_history(history.films, history.total), ephemeral=True)
        else:
            result = await watch.mark(interaction.user.id, title)
            await interaction.followup.send(
                watched_message(result.film, result.newly_added, result.total), ephemeral=True
            )


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Watched(bot))
