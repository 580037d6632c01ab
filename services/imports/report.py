"""What an import says when it ends: the summary (edited into the answer, or sent by DM) and the
not_matched.csv beside it."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from services.text import quote

SOURCES = {"letterboxd": "Letterboxd", "imdb": "IMDb", "trakt": "Trakt"}
LISTS = (("watched", "Watch history"), ("rating", "Ratings"), ("watchlist", "Watchlist"))
SHOWN_UNMATCHED = 10


def progress_line(source: str, done: int, total: int) -> str:
    verb = "Matched" if source == "letterboxd" else "Looked up"
    return f"⏳ Importing from {SOURCES[source]}… {verb} {done:,} of {total:,} films."


def film_label(name: str, year: int | None) -> str:
    return f"{name} ({year})" if year else name


def describe(
    source: str, filename: str | None, summary: dict[str, Any], unmatched: Sequence[tuple[str, int | None]]
) -> str:
    """The summary: per list, films added and already there; what was not matched; what was skipped."""
    origin = f" (`{quote(filename, 60)}`)" if filename else ""
    lines = [f"✅ Imported from {SOURCES[source]}{origin}:"]
    for key, label in LISTS:
        counts = summary["lists"][key]
        updated = f" ({counts['updated']:,} updated)" if counts["updated"] else ""
        lines.append(
            f"• {label}: {counts['added']:,} added, {counts['already'] + counts['updated']:,} already there{updated}"
        )
    if unmatched:
        shown = ", ".join(quote(film_label(n, y), 60) for n, y in unmatched[:SHOWN_UNMATCHED])
        more = f" and {len(unmatched) - SHOWN_UNMATCHED:,} more" if len(unmatched) > SHOWN_UNMATCHED else ""
        lines.append(f"• Not matched on TMDB: {len(unmatched):,} (all in not_matched.csv): {shown}{more}")
    skipped: dict[str, int] = summary.get("skipped") or {}
    if skipped:
        reasons = "; ".join(f"{reason}: {count:,}" for reason, count in sorted(skipped.items(), key=lambda i: -i[1]))
        lines.append(f"• Skipped: {sum(skipped.values()):,} rows ({reasons})")
    if not unmatched and not skipped:
        lines.append("• Every film was matched.")
    return "\n".join(lines)


def not_matched_csv(unmatched: Sequence[tuple[str, int | None]]) -> bytes:
    """The films TMDB had no match for, in Letterboxd's import columns (Title, Year)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["Title", "Year"])
    writer.writerows([name, year or ""] for name, year in unmatched)
    return out.getvalue().encode()
