"""Film cards and lists stay inside Discord's embed limits whatever TMDB sends."""

from __future__ import annotations

import discord

from bot import card as cards
from bot import embeds
from services.tmdb.models import ImageConfig, MovieDetails, MoviePage
from tests.fakes.tmdb import make_details, make_film

IMAGES = ImageConfig("https://image.tmdb.org/t/p/", "w500")


def oversized_details() -> MovieDetails:
    raw = make_details(make_film(1), 1)
    raw.update(title="T" * 400, overview="word " * 3000, tagline="tag " * 200)
    raw["genres"] = [{"id": n, "name": "Genre" * 30} for n in range(40)]
    raw["credits"]["cast"] = [{"name": "N" * 300, "character": "C" * 300, "order": n} for n in range(50)]
    raw["credits"]["crew"] = [{"name": "D" * 500, "job": "Director"} for _ in range(5)]
    raw["watch/providers"]["results"]["US"]["rent"] = [{"provider_name": "P" * 200} for _ in range(30)]
    return MovieDetails.from_tmdb(raw, "US")


def within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= embeds.EMBED_TOTAL_MAX
    assert len(embed.title or "") <= embeds.TITLE_MAX
    assert len(embed.description or "") <= embeds.DESCRIPTION_MAX
    assert len(embed.fields) <= 25
    assert all(len(f.value or "") <= embeds.FIELD_VALUE_MAX and len(f.name or "") <= 256 for f in embed.fields)


def test_an_oversized_film_card_is_clamped() -> None:
    card = cards.film_card(oversized_details(), IMAGES, "US")
    within_limits(card)
    assert card.title is not None and card.title.endswith("…")
    assert card.description is not None and card.description.endswith("…")


def test_an_oversized_list_is_clamped() -> None:
    films = [make_film(i) | {"title": "X" * 300} for i in range(20)]
    page = MoviePage.from_tmdb({"page": 1, "total_pages": 900, "total_results": 18000, "results": films})
    listing = embeds.film_list("L" * 300, page, {28: "Action"})
    within_limits(listing)
    assert page.total_pages == 500  # TMDB serves no page past 500


def test_a_film_with_no_data_still_renders() -> None:
    film = MovieDetails.from_tmdb({"id": 7, "title": None, "release_date": "", "genres": None}, "US")
    card = cards.film_card(film, IMAGES, "US")
    assert card.title == "TMDB film 7"
    assert card.description == "No overview on TMDB yet."
    assert card.image.url is None
    assert "as far as JustWatch knows" in str(card.fields[-1].value)
