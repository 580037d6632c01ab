"""/settings: with options, saves each one given ("✅ Saved: …"); with none, the panel
(panel.py). Region and language are offered from TMDB's own lists as the user types."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.cogs.settings.panel import PANEL_ITEMS, language_label, on_off, panel, region_label

if TYPE_CHECKING:
    from bot.client import MarqueeBot


async def region_choices(interaction: discord.Interaction[MarqueeBot], current: str) -> list[app_commands.Choice[str]]:
    regions = await interaction.client.services.user_settings.region_choices(current)
    return [app_commands.Choice(name=embeds.plain(r.label, 100), value=r.code) for r in regions]


async def language_choices(
    interaction: discord.Interaction[MarqueeBot], current: str
) -> list[app_commands.Choice[str]]:
    translations = await interaction.client.services.user_settings.language_choices(current)
    return [app_commands.Choice(name=embeds.plain(t.label, 100), value=t.tag) for t in translations]


class Settings(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="settings", description="Your region, language, streaming services, spoilers and alerts")
    @app_commands.describe(
        region="Where you watch: decides release dates, certifications and where to watch",
        language="The language of titles and overviews",
        spoilers="Spoiler mode: hide overviews and taglines until clicked",
        alerts="DM me when a watchlisted film starts streaming on my services or comes out",
    )
    @app_commands.autocomplete(region=region_choices, language=language_choices)
    async def settings(
        self,
        interaction: discord.Interaction[MarqueeBot],
        region: app_commands.Range[str, 1, 100] | None = None,
        language: app_commands.Range[str, 1, 100] | None = None,
        spoilers: bool | None = None,
        alerts: bool | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        user = interaction.user.id
        if region is None and language is None and spoilers is None and alerts is None:
            embed, view = await panel(interaction, user)
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)
            return
        prefs = await services.user_settings.save(
            user, region=region, language=language, spoilers=spoilers, alerts=alerts
        )
        saved = []
        if region is not None:
            saved.append(f"Region: {await region_label(services, prefs.region)}")
        if language is not None:
            saved.append(f"Language: {await language_label(services, prefs.language)}")
        if spoilers is not None:
            saved.append(f"Spoiler mode: {on_off(prefs.spoilers)}")
        if alerts is not None:
            saved.append(f"Availability alerts: {on_off(prefs.alerts)}")
        await interaction.followup.send(f"✅ Saved: {embeds.md('; '.join(saved), 1800)}", ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(*PANEL_ITEMS)
    await bot.add_cog(Settings(bot))
