"""The filter options /ask and /foryou share (genre, decade, max_runtime, language): one set of
choices, descriptions and autocomplete, turned into services' `Filters`."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord import app_commands

from services.ai.filters import DECADES, GENRES, Filters

if TYPE_CHECKING:
    from bot.client import MarqueeBot

F = TypeVar("F", bound=Callable[..., Any])

# ISO 639-1 codes of the languages films are most often made in (TMDB uses the same codes).
LANGUAGES = {
    "en": "English", "fr": "French", "es": "Spanish", "de": "German", "it": "Italian", "ja": "Japanese",
    "ko": "Korean", "zh": "Chinese", "cn": "Cantonese", "hi": "Hindi", "ta": "Tamil", "te": "Telugu",
    "ml": "Malayalam", "bn": "Bengali", "ru": "Russian", "pt": "Portuguese", "sv": "Swedish", "da": "Danish",
    "no": "Norwegian", "fi": "Finnish", "nl": "Dutch", "pl": "Polish", "cs": "Czech", "hu": "Hungarian",
    "ro": "Romanian", "el": "Greek", "tr": "Turkish", "fa": "Persian", "ar": "Arabic", "he": "Hebrew",
    "th": "Thai", "vi": "Vietnamese", "id": "Indonesian", "tl": "Tagalog", "uk": "Ukrainian", "is": "Icelandic",
    "ga": "Irish", "ca": "Catalan", "eu": "Basque", "sr": "Serbian",
}  # fmt: skip


async def languages(interaction: discord.Interaction[MarqueeBot], current: str) -> list[app_commands.Choice[str]]:
    """Languages by name or code: "fre", "French" and "fr" all find French."""
    typed = current.strip().casefold()
    found = [
        (code, name)
        for code, name in LANGUAGES.items()
        if not typed or code == typed or name.casefold().startswith(typed)
    ]
    return [app_commands.Choice(name=f"{name} ({code})", value=code) for code, name in found[:25]]


def filter_options(command: F) -> F:
    """The four filter parameters' choices, autocomplete and descriptions, on a command that has them."""
    decorated = app_commands.choices(
        genre=[
            app_commands.Choice(name=name, value=genre_id)
            for genre_id, name in sorted(GENRES.items(), key=lambda g: g[1])
        ],
        decade=[app_commands.Choice(name=f"{decade}s", value=decade) for decade in DECADES],
    )(command)
    decorated = app_commands.autocomplete(language=languages)(decorated)
    return app_commands.describe(
        genre="Only films of this genre",
        decade="Only films released in this decade",
        max_runtime="Only films this long or shorter (minutes)",
        language="Only films originally in this language",
    )(decorated)


def to_filters(
    genre: app_commands.Choice[int] | None,
    decade: app_commands.Choice[int] | None,
    max_runtime: int | None,
    language: str | None,
) -> Filters:
    """BadInput (an ephemeral answer) for a language typed by hand that is not a code."""
    typed = language.strip().casefold() if language else None
    by_name = {name.casefold(): code for code, name in LANGUAGES.items()}
    code = by_name.get(typed, typed) if typed else None
    return Filters(
        genre=genre.value if genre else None,
        decade=decade.value if decade else None,
        max_runtime=max_runtime,
        language=code or None,
    )
