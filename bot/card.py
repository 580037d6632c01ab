"""The film card, shared by every feature that shows a film: its embed, its buttons (Trailer,
IMDb, Similar, Watched) and the select that opens a card from any list."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol, cast

import discord

from bot.cogs.feedback.buttons import FEEDBACK_ITEMS, FeedbackButton
from bot.cogs.watchlist.buttons import WatchlistButton
from bot.components import MarqueeItem, reported, services_of
from bot.embeds import (
    BRAND,
    FIELD_VALUE_MAX,
    OPTION_MAX,
    TITLE_MAX,
    TMDB_MOVIE_URL,
    clamp,
    date_text,
    fit,
    md,
    option_description,
    plain,
    rating_text,
    runtime_text,
)
from bot.where import preferences
from services.errors import DatabaseUnavailable
from services.personal.settings import Preferences
from services.runtime import Services
from services.tmdb.models import ImageConfig, MovieDetails, MovieSummary, Provider, WatchProviders

OVERVIEW_MAX = 1500
SELECT_MAX = 25


def film_card(film: MovieDetails, images: ImageConfig, prefs: Preferences) -> discord.Embed:
    """The card as its viewer sees it: their region's release date, certification and offers
    (their services first), the overview and tagline hidden in spoiler mode."""
    summary = film.summary
    region = prefs.region
    regional = film.in_region(region)
    overview = md(summary.overview, OVERVIEW_MAX) if summary.overview else "No overview on TMDB yet."
    tagline = f"*{md(film.tagline, 200)}*" if film.tagline else ""
    if prefs.spoilers:  # hidden until clicked
        overview = f"||{overview}||" if summary.overview else overview
        tagline = f"||{tagline}||" if tagline else ""
    description = f"{tagline}\n\n{overview}" if tagline else overview
    embed = discord.Embed(
        title=md(summary.label, TITLE_MAX),
        url=TMDB_MOVIE_URL.format(id=film.id),
        description=description,
        colour=BRAND,
    )
    if poster := images.poster(summary.poster_path):
        embed.set_image(url=poster)
    release_date = film.release_date_in(region)
    released = release_date is None or release_date <= date.today()
    when = date_text(release_date) if release_date else None
    original = None
    if summary.original_title and summary.original_title != summary.title:
        original = summary.original_title + (f" ({summary.original_language})" if summary.original_language else "")
    facts = [
        ("Released" if released else "Coming", when),
        ("Runtime", runtime_text(film.runtime)),
        ("Genres", md(", ".join(film.genres), FIELD_VALUE_MAX)),
        ("Rating", rating_text(summary.vote_average, summary.vote_count)),
        ("Certification", md(regional.certification or "", 40)),
        ("Director" if len(film.directors) < 2 else "Directors", md(", ".join(film.directors[:3]), FIELD_VALUE_MAX)),
        ("Original title", md(original or "", FIELD_VALUE_MAX)),
    ]
    for name, value in facts:
        if value:
            embed.add_field(name=name, value=value, inline=True)
    if film.cast:
        cast = "\n".join(
            f"{md(c.name, 80)} as {md(c.character, 80)}" if c.character else md(c.name, 80) for c in film.cast[:5]
        )
        embed.add_field(name="Cast", value=cast, inline=False)
    embed.add_field(
        name=f"Where to watch ({region})", value=_where_to_watch(regional.providers, prefs.services), inline=False
    )
    embed.set_footer(text="Data: TMDB · Where to watch: JustWatch")
    return fit(embed)


def _providers(kind: str, providers: Sequence[Provider], mine: Sequence[int] = ()) -> str | None:
    names = [("✅ " if p.id in mine else "") + md(p.name, 60) for p in providers[:8]]
    return f"**{kind}:** {', '.join(names)}" if providers else None


def _where_to_watch(providers: WatchProviders, mine: Sequence[int]) -> str:
    """The offers, the viewer's services first and ✅; when none of theirs streams it, where
    to rent or buy it instead."""
    if providers.empty:
        return "Not streaming, renting or selling here as far as JustWatch knows."
    streaming = sorted(providers.flatrate, key=lambda p: p.id not in mine)
    lines = []
    if mine and not providers.streams_on(mine):
        elsewhere = list(dict.fromkeys(md(p.name, 60) for p in (*providers.rent, *providers.buy)))
        lines.append(
            f"Not on your services — rent or buy at: {', '.join(elsewhere[:8])}"
            if elsewhere
            else "Not on your services."
        )
    lines += [
        line
        for line in (
            _providers("Stream", streaming, mine),
            _providers("Rent", providers.rent),
            _providers("Buy", providers.buy),
        )
        if line
    ]
    if providers.link:
        lines.append(f"[All options on TMDB]({providers.link}) · powered by JustWatch")
    text = "\n".join(lines)
    # The link line goes first when the field is too long: clamping it would break its markdown.
    return (
        text
        if len(text) <= FIELD_VALUE_MAX
        else clamp("\n".join(lines[:-1] if providers.link else lines), FIELD_VALUE_MAX)
    )


class WatchedButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:watched:(?P<movie_id>\d{1,10})",
):
    """Adds the card's film to the clicking user's watch history."""

    def __init__(self, movie_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Watched",
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"marquee:watched:{movie_id}",
            )
        )
        self.movie_id = movie_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchedButton:
        return cls(int(match["movie_id"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await services_of(interaction).watch.mark_id(interaction.user.id, self.movie_id)
        await interaction.followup.send(watched_message(result.film, result.newly_added, result.total), ephemeral=True)


class ShowsSimilar(Protocol):
    async def show_similar(self, interaction: discord.Interaction, movie_id: int) -> None: ...


class SimilarButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:similar:(?P<movie_id>\d{1,10})",
):
    """Films like the card's, shown to whoever clicks (the /similar cog answers it)."""

    def __init__(self, movie_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Similar",
                emoji="🧭",
                style=discord.ButtonStyle.secondary,
                custom_id=f"marquee:similar:{movie_id}",
            )
        )
        self.movie_id = movie_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SimilarButton:
        return cls(int(match["movie_id"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        # The cog, not an import: /similar's rendering lives beside its command and uses this module.
        similar = cast(ShowsSimilar, interaction.client.get_cog("Similar"))  # type: ignore[attr-defined]
        await similar.show_similar(interaction, self.movie_id)


class OpenFilmSelect(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"marquee:open:(?P<nonce>[a-z_0-9]{1,60})",
):
    """Opens one film of a list as a card, shown to whoever picked it."""

    @classmethod
    def for_films(
        cls,
        films: Sequence[MovieSummary],
        nonce: str,
        genres: dict[int, str],
        placeholder: str = "Open a film…",
    ) -> OpenFilmSelect:
        options: list[discord.SelectOption] = []
        seen: set[int] = set()
        for film in films:
            if film.id in seen or len(options) == SELECT_MAX:
                continue  # Discord rejects a select whose values repeat
            seen.add(film.id)
            options.append(
                discord.SelectOption(
                    label=plain(film.label, OPTION_MAX),
                    value=str(film.id),
                    description=option_description(film, genres),
                )
            )
        return cls(
            discord.ui.Select(
                custom_id=f"marquee:open:{nonce}",
                placeholder=plain(placeholder, 150),
                options=options or [discord.SelectOption(label="Nothing to open", value="0")],
                disabled=not options,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OpenFilmSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await send_own_card(interaction, int(self.item.values[0]))


async def send_own_card(interaction: discord.Interaction, movie_id: int) -> None:
    """A film's card, shown only to whoever asked, with the buttons as theirs (🗑 Remove from
    watchlist for a film they listed)."""
    await interaction.response.defer(ephemeral=True, thinking=True)
    services = services_of(interaction)
    prefs = await preferences(interaction)
    film = await services.catalog.details(movie_id, locale=prefs.locale)
    images = await services.catalog.image_config()
    listed = await listed_by(services, interaction.user.id, film.id)
    await interaction.followup.send(
        embed=film_card(film, images, prefs),
        view=card_view(film, listed=listed),
        ephemeral=True,
    )


async def listed_by(services: Services, discord_id: int, movie_id: int) -> bool:
    """Whether the film is on the user's watchlist, for their own card's button; with the
    database away the card still shows (with "+ Watchlist")."""
    try:
        return await services.watchlist.contains(discord_id, movie_id)
    except DatabaseUnavailable:
        return False


CARD_ITEMS = (WatchedButton, SimilarButton, WatchlistButton, OpenFilmSelect, *FEEDBACK_ITEMS)


def list_view(
    buttons: Sequence[discord.ui.Item[Any]], films: Sequence[MovieSummary], nonce: str, genres: dict[int, str]
) -> discord.ui.View:
    """A list message's controls: its (paging) buttons, then the select that opens a card."""
    view = discord.ui.View(timeout=None)
    for button in buttons:
        view.add_item(button)
    view.add_item(OpenFilmSelect.for_films(films, nonce, genres))
    return view


def watched_message(film: MovieDetails, newly_added: bool, total: int) -> str:
    films = f"{total} film{'s' * (total != 1)}"
    name = md(film.summary.label, 200)
    if newly_added:
        return f"Marked **{name}** as watched. Your history now has {films}."
    return f"**{name}** was already in your history ({films}); I moved it to the top."


def card_view(
    film: MovieDetails,
    others: Sequence[MovieSummary] = (),
    genres: dict[int, str] | None = None,
    *,
    listed: bool = False,
) -> discord.ui.View:
    """Trailer and IMDb links, Similar, Watched (for released films), + Watchlist (🗑 Remove on
    the user's own card of a film they listed), and "Not this one?" when the title typed names
    other films too."""
    view = discord.ui.View(timeout=None)
    if (trailer := film.trailer) and trailer.url:
        view.add_item(discord.ui.Button(label="Trailer", emoji="🎬", url=trailer.url))
    if film.imdb_url:
        view.add_item(discord.ui.Button(label="IMDb", url=film.imdb_url))
    view.add_item(SimilarButton(film.id))
    if film.summary.released():
        view.add_item(WatchedButton(film.id))
    view.add_item(WatchlistButton(film.id, listed=listed))
    view.add_item(FeedbackButton("like", film.id))
    view.add_item(FeedbackButton("dislike", film.id))
    if others:
        view.add_item(
            OpenFilmSelect.for_films(
                others, f"others_{film.id}", genres or {}, "Not this one? Other films by that name"
            )
        )
    return view
