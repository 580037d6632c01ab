"""Reading an uploaded export safely: a CSV, or a ZIP read in memory (never extracted), within
limits said in every refusal. What the rows mean is letterboxd.py's and imdb.py's business."""

from __future__ import annotations

import csv
import io
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import aiohttp

from services.errors import FileRefused
from services.text import code_span

MAX_FILE = 10 * 1024 * 1024  # bytes of the upload
MAX_UNPACKED = 50 * 1024 * 1024  # bytes a ZIP's members may unpack to, together
MAX_MEMBERS = 20  # files in a ZIP outside lists/ (a real Letterboxd export has about a dozen)
MAX_ROWS = 50_000  # rows across the files read
NAME_MAX = 300  # characters of a film's name kept from a file
LIST_KINDS = ("watched", "rating", "watchlist")


@dataclass(frozen=True, slots=True)
class Entry:
    """One row of an export, as Marquee will use it: a watch, a rating or a watchlist entry."""

    list: str  # one of LIST_KINDS
    name: str  # the film as the source names it (shown when it cannot be matched)
    year: int | None
    key: str  # the same film in the same source has the same key (matched once)
    rating: int | None = None  # out of 10
    verdict: int | None = None  # 1 👍, -1 👎, None (a middling rating, or no rating)
    at: datetime | None = None  # when it was watched, rated or listed
    tmdb_id: int | None = None  # known already (Trakt's items carry it)


@dataclass
class Parsed:
    entries: list[Entry] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> rows

    def skip(self, reason: str) -> None:
        self.skipped[reason] += 1


@dataclass(frozen=True, slots=True)
class Table:
    filename: str
    rows: list[dict[str, str]]
    columns: tuple[str, ...]

    def require(self, *names: str) -> None:
        for name in names:
            if name not in self.columns:
                raise FileRefused(
                    f"{code_span(self.filename)} has no {code_span(name)} column: is it the export as downloaded?"
                )


def human(size: int) -> str:
    return f"{size // (1024 * 1024)} MB"


def check_size(size: int) -> None:
    if size > MAX_FILE:
        raise FileRefused(f"That file is over {human(MAX_FILE)}; nothing was imported.")


async def download(http: aiohttp.ClientSession, url: str) -> bytes:
    """An attachment from Discord's CDN, never more than MAX_FILE bytes of it."""
    try:
        async with http.get(url, timeout=aiohttp.ClientTimeout(total=60)) as response:
            if response.status in (403, 404, 410):
                raise FileRefused("Discord no longer serves that file: attach it again.")
            if response.status >= 400:
                raise FileRefused(f"Discord's file server answered {response.status}: attach the file again.")
            data = bytearray()
            async for chunk in response.content.iter_chunked(64 * 1024):
                data += chunk
                if len(data) > MAX_FILE:
                    break
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise FileRefused("Discord's file server couldn't be reached: attach the file again in a minute.") from exc
    check_size(len(data))
    return bytes(data)


def read_upload(filename: str, data: bytes, wanted: tuple[str, ...] | None) -> list[Table]:
    """The CSV tables of an upload. A ZIP gives those of its root files named in `wanted` (every
    root .csv when None); anything else in it, in folders, or with a path for a name is ignored."""
    check_size(len(data))
    if data[:4] == b"PK\x03\x04" or filename.lower().endswith(".zip"):
        return _read_zip(filename, data, wanted)
    if not filename.lower().endswith(".csv"):
        raise FileRefused("That isn't a ZIP or CSV file. Attach the export as downloaded.")
    tables = [_table(filename, data)]
    _check_rows(tables)
    return tables


def _read_zip(filename: str, data: bytes, wanted: tuple[str, ...] | None) -> list[Table]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise FileRefused(f"{code_span(filename)} isn't a readable ZIP file. Attach the export as downloaded.") from exc
    with archive:
        members = [m for m in archive.infolist() if not m.is_dir()]
        outside_lists = [m for m in members if not m.filename.startswith("lists/")]
        if len(outside_lists) > MAX_MEMBERS:
            raise FileRefused(f"That ZIP holds more than {MAX_MEMBERS} files; attach the export as downloaded.")
        if sum(m.file_size for m in members) > MAX_UNPACKED:
            raise FileRefused(f"That ZIP would unpack to more than {human(MAX_UNPACKED)}; nothing was imported.")
        tables = []
        for member in members:
            name = member.filename
            plain = "/" not in name and "\\" not in name and name not in ("", ".", "..")
            if not plain or not name.lower().endswith(".csv") or (wanted is not None and name not in wanted):
                continue  # folders (deleted/, orphaned/, lists/, likes/), paths, and files not read
            try:
                raw = archive.read(member)
            except (zipfile.BadZipFile, NotImplementedError, RuntimeError, OSError) as exc:
                raise FileRefused(f"{code_span(name)} in that ZIP can't be read ({type(exc).__name__}).") from exc
            tables.append(_table(name, raw))
    if not tables:
        names = ", ".join(code_span(n) for n in wanted or ("a .csv file",))
        raise FileRefused(f"That ZIP has none of {names} at its root; attach the export as downloaded.")
    _check_rows(tables)
    return tables


def _table(filename: str, raw: bytes) -> Table:
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileRefused(f"{code_span(filename)} isn't UTF-8 text; attach the export as downloaded.") from exc
    if "\x00" in text:
        raise FileRefused(f"{code_span(filename)} isn't a CSV file; attach the export as downloaded.")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        columns = tuple((c or "").strip() for c in reader.fieldnames or ())
        rows = []
        for row in reader:
            rows.append({(k or "").strip(): (v if isinstance(v, str) else "") for k, v in row.items()})
            if len(rows) > MAX_ROWS:
                break
    except csv.Error as exc:
        raise FileRefused(f"{code_span(filename)} isn't a readable CSV file ({exc}).") from exc
    if not columns:
        raise FileRefused(f"{code_span(filename)} is empty.")
    return Table(filename, rows, columns)


def _check_rows(tables: list[Table]) -> None:
    if sum(len(t.rows) for t in tables) > MAX_ROWS:
        raise FileRefused(f"That export has more than {MAX_ROWS:,} rows; Marquee imports up to {MAX_ROWS:,}.")


def day(text: str) -> datetime | None:
    """A YYYY-MM-DD date (as the exports write them) as midnight UTC; None when absent or bad."""
    try:
        return datetime.combine(date.fromisoformat(text.strip()[:10]), datetime.min.time(), UTC)
    except ValueError:
        return None


def year_of(text: str, parsed: Parsed) -> tuple[bool, int | None]:
    """(usable, year): an empty year is usable (None); one that is not a plausible number is not."""
    text = text.strip()
    if not text:
        return True, None
    if not text.isdigit() or not 1870 <= int(text) <= 2200:
        parsed.skip("the year is not a number")
        return False, None
    return True, int(text)
