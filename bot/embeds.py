"""Embeds for films, lists and histories, kept inside Discord's limits."""

from __future__ import annotations

import discord

from services.db.history import WatchedFilm
from services.tmdb.models import ImageConfig, MovieDetails, MoviePage, Provider

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits)
TITLE_MAX, DESCRIPTION_MAX, FIELD_VALUE_MAX, FOOTER_MAX, EMBED_TOTAL_MAX = 256, 4096, 1024, 2048, 6000
OVERVIEW_MAX = 1500
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


def clamp(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def runtime_text(minutes: int | None) -> str | None:
    if not minutes:
        return None
    hours, mins = divmod(minutes, 60)
    return f"{hours}h {mins}m" if hours else f"{mins}m"


def rating_text(average: float, votes: int) -> str:
    return f"★ {average:.1f}/10 ({votes:,} votes)" if votes else "not rated yet"


def _providers(kind: str, providers: tuple[Provider, ...]) -> str | None:
    return f"**{kind}:** {', '.join(p.name for p in providers[:8])}" if providers else None


def film_card(film: MovieDetails, images: ImageConfig, region: str) -> discord.Embed:
    summary = film.summary
    overview = clamp(summary.overview or "No overview on TMDB yet.", OVERVIEW_MAX)
    description = f"*{clamp(film.tagline, 200)}*\n\n{overview}" if film.tagline else overview
    embed = discord.Embed(
        title=clamp(summary.label, TITLE_MAX),
        url=TMDB_MOVIE_URL.format(id=film.id),
        description=description,
        colour=BRAND,
    )
    if poster := images.poster(summary.poster_path):
        embed.set_thumbnail(url=poster)
    facts = [
        ("Runtime", runtime_text(film.runtime)),
        ("Genres", ", ".join(film.genres)),
        ("Rating", rating_text(summary.vote_average, summary.vote_count)),
        ("Certification", film.certification),
        ("Director" if len(film.directors) < 2 else "Directors", ", ".join(film.directors[:3])),
    ]
    for name, value in facts:
        if value:
            embed.add_field(name=name, value=clamp(value, FIELD_VALUE_MAX), inline=True)
    if film.cast:
        cast = "\n".join(f"{c.name} as {c.character}" if c.character else c.name for c in film.cast[:5])
        embed.add_field(name="Cast", value=clamp(cast, FIELD_VALUE_MAX), inline=False)
    embed.add_field(name=f"Where to watch ({region})", value=_where_to_watch(film), inline=False)
    embed.set_footer(text="Data: TMDB · Where to watch: JustWatch")
    return fit(embed)


def _where_to_watch(film: MovieDetails) -> str:
    providers = film.providers
    if providers.empty:
        return "Not streaming, renting or selling here as far as JustWatch knows."
    lines = [
        line
        for line in (
            _providers("Stream", providers.flatrate),
            _providers("Rent", providers.rent),
            _providers("Buy", providers.buy),
        )
        if line
    ]
    if providers.link:
        lines.append(f"[All options on TMDB]({providers.link}) · powered by JustWatch")
    return clamp("\n".join(lines), FIELD_VALUE_MAX)


def film_list(title: str, page: MoviePage, genres: dict[int, str], *, footer: str | None = None) -> discord.Embed:
    lines = []
    offset = (page.page - 1) * 20
    for number, film in enumerate(page.results, start=offset + 1):
        kinds = ", ".join(genres[g] for g in film.genre_ids[:3] if g in genres)
        rating = f" · ★ {film.vote_average:.1f}" if film.vote_count else ""
        lines.append(clamp(f"**{number}.** {film.label}{rating}" + (f" · {kinds}" if kinds else ""), 180))
    embed = discord.Embed(
        title=clamp(title, TITLE_MAX),
        description="\n".join(lines) or "Nothing here.",
        colour=BRAND,
    )
    embed.set_footer(text=clamp(footer or f"Page {page.page} of {page.total_pages} · Data: TMDB", FOOTER_MAX))
    return fit(embed)


def watch_history(films: list[WatchedFilm], total: int) -> discord.Embed:
    lines = [
        f"{discord.utils.format_dt(f.watched_at, 'd')} · "
        + (f"{f.title} ({f.release_date.year})" if f.release_date else f.title)
        for f in films
    ]
    embed = discord.Embed(
        title="Your watch history",
        description=clamp("\n".join(lines), DESCRIPTION_MAX) if lines else "Nothing yet: mark a film with /watched.",
        colour=BRAND,
    )
    shown = f"latest {len(films)} of {total}" if total > len(films) else f"{total} film{'s' * (total != 1)}"
    embed.set_footer(text=shown)
    return embed


def fit(embed: discord.Embed) -> discord.Embed:
    """Trim the description until the whole embed is within Discord's 6000 characters."""
    excess = len(embed) - EMBED_TOTAL_MAX
    if excess > 0 and embed.description:
        embed.description = clamp(embed.description, max(1, len(embed.description) - excess))
    return embed
