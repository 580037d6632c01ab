"""Export files as Letterboxd and IMDb write them, for the import tests and the benchmark.

Letterboxd (Settings → Data → Export) gives a ZIP whose root holds profile.csv, diary.csv,
ratings.csv, reviews.csv, watched.csv, watchlist.csv, comments.csv, plus likes/, lists/, and
deleted/ and orphaned/ copies of entries since removed. IMDb's ratings export and list exports
(the watchlist is one) are CSVs with the columns below."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable, Sequence

LB_BASIC = ["Date", "Name", "Year", "Letterboxd URI"]
LB_RATINGS = [*LB_BASIC, "Rating"]
LB_DIARY = [*LB_BASIC, "Rating", "Rewatch", "Tags", "Watched Date"]
LB_REVIEWS = [*LB_BASIC, "Rating", "Rewatch", "Review", "Tags", "Watched Date"]
IMDB_RATINGS = [
    "Const",
    "Your Rating",
    "Date Rated",
    "Title",
    "Original Title",
    "URL",
    "Title Type",
    "IMDb Rating",
    "Runtime (mins)",
    "Year",
    "Genres",
    "Num Votes",
    "Release Date",
    "Directors",
]
IMDB_LIST = [
    "Position",
    "Const",
    "Created",
    "Modified",
    "Description",
    "Title",
    "Original Title",
    "URL",
    "Title Type",
    "IMDb Rating",
    "Runtime (mins)",
    "Year",
    "Genres",
    "Num Votes",
    "Release Date",
    "Directors",
    "Your Rating",
    "Date Rated",
]


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[object]], *, bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode()


def uri(name: str) -> str:
    return "https://boxd.it/" + "".join(c for c in name.lower() if c.isalnum())[:6]


def lb_row(date: str, name: str, year: object, *extra: object) -> list[object]:
    return [date, name, year, uri(name), *extra]


def zip_bytes(files: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return out.getvalue()


def letterboxd_zip(
    watched: Sequence[Sequence[object]] = (),
    ratings: Sequence[Sequence[object]] = (),
    diary: Sequence[Sequence[object]] = (),
    watchlist: Sequence[Sequence[object]] = (),
    *,
    extra: dict[str, bytes] | None = None,
) -> bytes:
    """A Letterboxd export as downloaded, with the files Marquee must not read beside the four it reads."""
    files = {
        "profile.csv": csv_bytes(["Date Joined", "Username", "Given Name"], [["2019-01-01", "ana", "Ana"]]),
        "watched.csv": csv_bytes(LB_BASIC, watched),
        "ratings.csv": csv_bytes(LB_RATINGS, ratings),
        "diary.csv": csv_bytes(LB_DIARY, diary),
        "watchlist.csv": csv_bytes(LB_BASIC, watchlist),
        "reviews.csv": csv_bytes(LB_REVIEWS, [lb_row("2020-01-01", "Reviewed Only", 1999, "4", "", "Great", "", "")]),
        "comments.csv": csv_bytes(["Date", "Content", "Comment"], []),
        "likes/films.csv": csv_bytes(LB_BASIC, [lb_row("2020-01-01", "Liked Only", 2001)]),
        "lists/favourites.csv": csv_bytes(LB_BASIC, [lb_row("2020-01-01", "Listed Only", 2002)]),
        # Entries the user removed: never imported.
        "deleted/watched.csv": csv_bytes(LB_BASIC, [lb_row("2020-01-01", "Crimson Orbit", 2001)]),
        "orphaned/diary.csv": csv_bytes(LB_DIARY, [lb_row("2020-01-01", "Paper Echo", 2018, "5", "", "", "")]),
    }
    files.update(extra or {})
    return zip_bytes(files)
