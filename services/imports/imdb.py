"""IMDb's exports: ratings.csv (`Const` the tt… id, `Your Rating` 1–10, `Date Rated`) and list
exports (`Position, Const, Created, …`; the watchlist is one, and its films go to the watchlist).
Matched exactly through TMDB's find-by-IMDb-id. Only films count: the title types `Movie`,
`TV Movie` and `Video` (older exports: `movie`, `tvMovie`, `video`); the rest is skipped with
its type as the reason. A rating means watched."""

from __future__ import annotations

import re

from services.imports.files import NAME_MAX, Entry, Parsed, day, read_upload, year_of
from services.text import one_line

FILM_TYPES = {"movie", "tvmovie", "video"}
# Every other title type, folded ("TV Series" and the older "tvSeries" alike), named as IMDb shows
# it now: the skip reasons never carry the file's own text.
TYPE_NAMES = {
    "tvseries": "TV Series",
    "tvepisode": "TV Episode",
    "tvminiseries": "TV Mini Series",
    "tvspecial": "TV Special",
    "tvshort": "TV Short",
    "short": "Short",
    "videogame": "Video Game",
    "podcastseries": "Podcast Series",
    "podcastepisode": "Podcast Episode",
}
LIKED, DISLIKED = 7, 4
IMDB_ID = re.compile(r"tt\d{1,10}")


def parse(filename: str, data: bytes) -> Parsed:
    parsed = Parsed()
    for table in read_upload(filename, data, None):
        table.require("Const")
        is_list = "Position" in table.columns
        if not is_list:
            table.require("Your Rating")
        for row in table.rows:
            _read_row(row, is_list, parsed)
    return parsed


def verdict(rating: int) -> int | None:
    return 1 if rating >= LIKED else -1 if rating <= DISLIKED else None


def _read_row(row: dict[str, str], is_list: bool, parsed: Parsed) -> None:
    const = row.get("Const", "").strip()
    if not IMDB_ID.fullmatch(const):
        parsed.skip("not an IMDb title id")
        return
    kind = "".join(row.get("Title Type", "").split()).casefold()
    if kind and kind not in FILM_TYPES:
        parsed.skip(f"not a film ({TYPE_NAMES.get(kind, 'another title type')})")
        return
    usable, year = year_of(row.get("Year", ""), parsed)
    if not usable:
        return
    name = one_line(row.get("Title", ""), NAME_MAX) or const
    if is_list:
        parsed.entries.append(Entry("watchlist", name, year, const, at=day(row.get("Created", ""))))
        return
    text = row.get("Your Rating", "").strip()
    if not text.isdigit() or not 1 <= int(text) <= 10:
        parsed.skip("the rating is out of range")
        return
    rating, at = int(text), day(row.get("Date Rated", ""))
    parsed.entries.append(Entry("rating", name, year, const, rating=rating, verdict=verdict(rating), at=at))
    parsed.entries.append(Entry("watched", name, year, const, at=at))
