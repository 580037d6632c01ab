"""Letterboxd's export (Settings → Data → Export): a ZIP whose root holds watched.csv, diary.csv,
ratings.csv and watchlist.csv (`Date, Name, Year, Letterboxd URI`; ratings add `Rating`, in
stars from 0.5 to 5; diary.csv adds `Rating, Rewatch, Tags, Watched Date`). Everything else in it
(reviews, comments, likes/, lists/, and the deleted/ and orphaned/ copies) is never read.
Letterboxd has no TMDB ids: each distinct name and year is matched on TMDB (service.py)."""

from __future__ import annotations

from dataclasses import replace

from services.errors import FileRefused
from services.imports.files import NAME_MAX, Entry, Parsed, Table, day, read_upload, year_of
from services.text import code_span, one_line

FILES = ("watched.csv", "diary.csv", "ratings.csv", "watchlist.csv")
REQUIRED = {
    "watched.csv": ("Date", "Name", "Year"),
    "watchlist.csv": ("Date", "Name", "Year"),
    "ratings.csv": ("Date", "Name", "Year", "Rating"),
    "diary.csv": ("Name", "Year", "Rating", "Watched Date"),
}
LIKED, DISLIKED = 8, 4  # out of 10: 4 stars or more 👍, 2 or less 👎


def parse(filename: str, data: bytes) -> Parsed:
    parsed = Parsed()
    for table in read_upload(filename, data, FILES):
        kind = _kind(table)
        table.require(*REQUIRED[kind])
        for row in table.rows:
            _read_row(kind, row, parsed)
    return parsed


def _kind(table: Table) -> str:
    """Which of the four files this is: by name in a ZIP; a CSV attached alone may be renamed."""
    name = table.filename.lower().rsplit("/", 1)[-1]
    if name in FILES:
        return name
    if "Watched Date" in table.columns:
        return "diary.csv"
    if "Rating" in table.columns:
        return "ratings.csv"
    if "watchlist" in name:
        return "watchlist.csv"
    if "Name" in table.columns:
        return "watched.csv"
    raise FileRefused(f"{code_span(table.filename)} isn't one of Letterboxd's {', '.join(FILES)}.")


def stars(text: str, parsed: Parsed) -> tuple[bool, int | None]:
    """(usable, rating out of 10) from Letterboxd's 0.5–5 stars; empty is no rating."""
    text = text.strip()
    if not text:
        return True, None
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.5 <= value <= 5 or (value * 2) % 1:
        parsed.skip("the rating is out of range")
        return False, None
    return True, round(value * 2)


def verdict(rating: int | None) -> int | None:
    if rating is None:
        return None
    return 1 if rating >= LIKED else -1 if rating <= DISLIKED else None


def _read_row(kind: str, row: dict[str, str], parsed: Parsed) -> None:
    name = one_line(row.get("Name", ""), NAME_MAX)
    if not name:
        parsed.skip("the name is empty")
        return
    usable, year = year_of(row.get("Year", ""), parsed)
    if not usable:
        return
    rating: int | None = None
    if kind in ("ratings.csv", "diary.csv"):
        usable, rating = stars(row.get("Rating", ""), parsed)
        if not usable:
            return
    key = f"{name.casefold()}\t{year or ''}"
    at = day(row.get("Watched Date", "")) or day(row.get("Date", ""))

    watched = Entry("watched", name, year, key, at=at)
    if kind in ("watched.csv", "diary.csv"):
        parsed.entries.append(watched)
    if kind == "watchlist.csv":
        parsed.entries.append(replace(watched, list="watchlist"))
    if rating is not None:
        parsed.entries.append(replace(watched, list="rating", rating=rating, verdict=verdict(rating)))
