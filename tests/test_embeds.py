"""Film cards and lists stay inside Discord's embed limits whatever TMDB sends."""

from __future__ import annotations

from datetime import date, timedelta

import discord

from bot import card as cards
from bot import embeds
from services.personal.settings import Preferences
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
    return MovieDetails.from_tmdb(raw)


def within_limits(embed: discord.Embed) -> None:
    assert len(embed) <= embeds.EMBED_TOTAL_MAX
    assert len(embed.title or "") <= embeds.TITLE_MAX
    assert len(embed.description or "") <= embeds.DESCRIPTION_MAX
    assert len(embed.fields) <= 25
    assert all(len(f.value or "") <= embeds.FIELD_VALUE_MAX and len(f.name or "") <= 256 for f in embed.fields)


def test_an_oversized_film_card_is_clamped() -> None:
    card = cards.film_card(oversized_details(), IMAGES, Preferences("US", "en-US"))
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
    film = MovieDetails.from_tmdb({"id": 7, "title": None, "release_date": "", "genres": None})
    card = cards.film_card(film, IMAGES, Preferences("US", "en-US"))
    assert card.title == "TMDB film 7"
    assert card.description == "No overview on TMDB yet."
    assert card.image.url is None
    assert "as far as JustWatch knows" in str(card.fields[-1].value)


def test_the_card_shows_the_regions_date_certification_and_offers() -> None:
    film = make_film(2)
    details = MovieDetails.from_tmdb(make_details(film, 2))
    released = date.fromisoformat(film["release_date"])
    for region, certification, when, offers in (
        ("US", "PG-13", released, "RentAll"),
        ("GB", "15", released + timedelta(days=30), "ITVX"),  # in cinemas there a month later; on ITVX
    ):
        card = cards.film_card(details, IMAGES, Preferences(region, "en-US"))
        fields = {f.name: f.value or "" for f in card.fields}
        assert fields["Certification"] == certification and fields["Released"] == embeds.date_text(when)
        assert offers in fields[f"Where to watch ({region})"]
    nowhere = {f.name: f.value for f in cards.film_card(details, IMAGES, Preferences("FR", "en-US")).fields}
    assert "Certification" not in nowhere and nowhere["Released"] == embeds.date_text(released)
    assert nowhere["Where to watch (FR)"] == "Not streaming, renting or selling here as far as JustWatch knows."
