"""Shared rendering: Discord's limits, escaping of outside text, and the film list embed."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import discord

from services.ai.matching import Pick
from services.text import escape_markdown, one_line
from services.tmdb.models import MoviePage, MovieSummary

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_MAX, DESCRIPTION_MAX, FIELD_VALUE_MAX, FOOTER_MAX, EMBED_TOTAL_MAX = 256, 4096, 1024, 2048, 6000
OPTION_MAX = 100
BRAND = discord.Colour(0x01B4E4)  # TMDB's blue
TMDB_MOVIE_URL = "https://www.themoviedb.org/movie/{id}"
ATTRIBUTION = "Film data from TMDB. This product uses the TMDB API but is not endorsed or certified by TMDB."
LIST_TITLES = {
    "now_playing": "Now playing",
    "popular": "Popular",
    "top_rated": "Top rated",
    "upcoming": "Upcoming",
    "trending": "Trending this week",
}
DATED_LISTS = ("now_playing", "upcoming")


def clamp(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rstrip()
    if (len(cut) - len(cut.rstrip("\\"))) % 2:
        cut = cut[:-1]  # never leave half of an escape at the end
    return cut + "…"


def md(text: str, limit: int) -> str:
    """Outside text (TMDB, a user, the model) for a place that renders markdown: escaped, then
    clamped, so it shows as itself and fits."""
    return clamp(escape_markdown(text), limit)


def plain(text: str, limit: int) -> str:
    """Outside text for a place that renders no markdown (select options, choices, footers)."""
    return clamp(one_line(text), limit)


def date_text(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def runtime_text(minutes: int | None) -> str | None:
    if not minutes:
        return None
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def rating_text(average: float, votes: int) -> str:
    return f"★ {average:.1f}/10 ({votes:,} votes)" if votes else "not rated yet"


def option_description(film: MovieSummary, genres: dict[int, str]) -> str | None:
    """'2019 · ★ 7.4 · Drama, Thriller' for a select option."""
    parts = [str(film.year) if film.year else None, f"★ {film.vote_average:.1f}" if film.vote_count else None]
    parts.append(", ".join(genres[g] for g in film.genre_ids[:3] if g in genres) or None)
    return plain(" · ".join(p for p in parts if p), OPTION_MAX) or None


def film_list(
    title: str, page: MoviePage, genres: dict[int, str], *, footer: str | None = None, dated: bool = False
) -> discord.Embed:
    """A numbered page of films; `dated` shows release dates (now playing, upcoming)."""
    lines = []
    offset = (page.page - 1) * 20
    for number, film in enumerate(page.results, start=offset + 1):
        kinds = ", ".join(genres[g] for g in film.genre_ids[:3] if g in genres)
        rating = f" · ★ {film.vote_average:.1f}" if film.vote_count else ""
        when = ""
        if dated and film.release_date:
            when = f" · {'out' if film.released() else 'coming'} {date_text(film.release_date)}"
        name = md(film.label, 120)
        lines.append(f"**{number}.** {name}{rating}{when}" + (f" · {kinds}" if kinds else ""))
    embed = discord.Embed(
        title=clamp(title, TITLE_MAX),
        description="\n".join(lines) or "Nothing here.",
        colour=BRAND,
    )
    embed.set_footer(text=clamp(footer or f"Page {page.page} of {page.total_pages} · Data: TMDB", FOOTER_MAX))
    return fit(embed)


def fit(embed: discord.Embed) -> discord.Embed:
    """Trim the description until the whole embed is within Discord's 6000 characters."""
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clamp(embed.description, max(1, len(embed.description) - excess))
    return embed


REASON_MAX = 200


def picks_list(title: str, picks: Sequence[Pick], genres: dict[int, str], *, footer: str) -> discord.Embed:
    """AI picks: each film with its rating and genres, and the model's one-line reason under it
    (model text, so escaped and clamped like any outside text)."""
    lines = []
    for number, pick in enumerate(picks, start=1):
        film = pick.film
        rating = f" · ★ {film.vote_average:.1f}" if film.vote_count else ""
        kinds = ", ".join(genres[g] for g in film.genre_ids[:3] if g in genres)
        lines.append(f"**{number}.** {md(film.label, 120)}{rating}" + (f" · {kinds}" if kinds else ""))
        if pick.reason:
            lines.append(f"╰ {md(pick.reason, REASON_MAX)}")
    embed = discord.Embed(title=clamp(title, TITLE_MAX), description="\n".join(lines), colour=BRAND)
    embed.set_footer(text=clamp(footer, FOOTER_MAX))
    return fit(embed)


def ranked_list(title: str, films: Sequence[MovieSummary], genres: dict[int, str], *, footer: str) -> discord.Embed:
    """Films found by meaning, nearest first. The rank is what is shown: a raw cosine similarity
    reads as a poor match to a person (the nearest film to a classic often scores under 0.5)."""
    lines = []
    for number, film in enumerate(films, start=1):
        rating = f" · ★ {film.vote_average:.1f}" if film.vote_count else ""
        kinds = ", ".join(genres[g] for g in film.genre_ids[:3] if g in genres)
        lines.append(f"**{number}.** {md(film.label, 120)}{rating}" + (f" · {kinds}" if kinds else ""))
    embed = discord.Embed(title=clamp(title, TITLE_MAX), description="\n".join(lines) or "Nothing here.", colour=BRAND)
    embed.set_footer(text=clamp(footer, FOOTER_MAX))
    return fit(embed)
