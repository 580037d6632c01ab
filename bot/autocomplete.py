"""Film-title autocomplete: choices carry the TMDB id as value and 'Title (Year)' as name."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands

from bot.embeds import plain

if TYPE_CHECKING:
    from bot.client import MarqueeBot

log = logging.getLogger(__name__)
MAX_CHOICES = 25


async def film_titles(interaction: discord.Interaction[MarqueeBot], current: str) -> list[app_commands.Choice[str]]:
    try:
        films = await interaction.client.services.catalog.suggest(current, MAX_CHOICES)
    except Exception:  # an autocomplete must answer, whatever happened
        log.exception("film autocomplete failed")
        return []
    seen: set[int] = set()
    choices = []
    for film in films:
        if film.id not in seen:
            seen.add(film.id)
            choices.append(app_commands.Choice(name=plain(film.label, 100), value=str(film.id)))
    return choices[:MAX_CHOICES]
