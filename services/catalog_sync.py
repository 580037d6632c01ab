"""`marquee catalog sync`: fill `movies` from TMDB's lists and discover pages, so that search by
meaning works on day one. The films are queued for embedding as they enter (the worker embeds).

Broad, not just this week's popular films: every list, then /discover by genre and decade.
Resumable: each page is recorded only once its films are committed, so a run stopped half way
and started again goes on where it stopped and fetches no page twice; a page whose films could
not be stored (the database away, a deadlock) stays pending, and the next run fetches it again.
A source whose first page said it has fewer pages is not asked for more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import asyncpg

from services.catalog import MovieCatalog
from services.db.pool import Database
from services.errors import MarqueeError
from services.tmdb.models import LIST_KINDS, MoviePage

log = logging.getLogger(__name__)

FIRST_DECADE = 1950
IN_FLIGHT = 4  # pages fetched at once (TMDB allows about 50 requests a second)


@dataclass(frozen=True)
class Source:
    name: str  # recorded in catalog_sync_pages
    kind: str | None = None  # a list, or None for discover
    filters: tuple[tuple[str, str], ...] = ()


@dataclass
class SyncReport:
    planned: int = 0  # pages this run looks at: every source's 1..N
    pages: int = 0  # fetched in this run
    skipped: int = 0  # recorded by an earlier run (or past a source's last page)
    new_films: int = 0
    failed: int = 0  # pages TMDB did not give; a later run fetches them
    waiting: int = 0  # later pages of a source whose page failed: a later run fetches them too

    @property
    def done(self) -> int:
        return self.pages + self.skipped + self.failed + self.waiting


Progress = Callable[[SyncReport], None]


def sources(genre_ids: list[int], today: date | None = None) -> list[Source]:
    """Every list, then each genre in each decade (oldest first) up to this one."""
    this_year = (today or date.today()).year
    found = [Source(kind, kind=kind) for kind in LIST_KINDS]
    for decade in range(FIRST_DECADE, this_year + 1, 10):
        for genre in sorted(genre_ids):
            found.append(
                Source(
                    f"discover:genre={genre}:decade={decade}",
                    filters=(
                        ("with_genres", str(genre)),
                        ("primary_release_date.gte", f"{decade}-01-01"),
                        ("primary_release_date.lte", f"{decade + 9}-12-31"),
                    ),
                )
            )
    return found


class CatalogSync:
    def __init__(self, catalog: MovieCatalog, db: Database) -> None:
        self._catalog = catalog
        self._db = db

    async def run(self, pages: int, progress: Progress | None = None) -> SyncReport:
        """Pages 1..`pages` of every source, less those recorded already. Sources go in
        parallel (IN_FLIGHT pages at once); a source's pages in order, so that its first page
        tells how many more there are."""
        all_sources = sources(list(await self._catalog.genre_names()))
        async with self._db.connection() as conn:
            done, totals = await _recorded(conn)
        report = SyncReport(planned=len(all_sources) * pages)
        gate = asyncio.Semaphore(IN_FLIGHT)

        async def one(source: Source) -> None:
            recorded, total = done.get(source.name, set()), totals.get(source.name)
            for page in range(1, pages + 1):
                if page in recorded or (total is not None and page > total):
                    report.skipped += 1
                else:
                    async with gate:
                        fetched = await self._page(source, page, report)
                    if fetched is None:
                        report.waiting += pages - page  # its page count is not known: the rest waits too
                        break
                    total = fetched.total_pages
                if progress is not None:
                    progress(report)

        await asyncio.gather(*(one(source) for source in all_sources))
        return report

    async def _page(self, source: Source, page: int, report: SyncReport) -> MoviePage | None:
        try:
            if source.kind is not None:
                fetched, new = await self._catalog.list_page(source.kind, page)
            else:
                fetched, new = await self._catalog.discover(dict(source.filters), page)
            await self._record(source, page, fetched)  # after its films were committed
        except MarqueeError as exc:  # one source that fails must not stop the others; a later run retries it
            log.warning("catalog sync: %s page %d failed: %s", source.name, page, exc)
            report.failed += 1
            return None
        report.pages += 1
        report.new_films += len(new)
        return fetched

    async def _record(self, source: Source, page: int, fetched: MoviePage) -> None:
        async with self._db.transaction_or_unavailable() as conn:
            await _record_page(conn, source, page, fetched)


async def _record_page(conn: asyncpg.Connection, source: Source, page: int, fetched: MoviePage) -> None:
    await conn.execute(
        "INSERT INTO catalog_sync_pages (source, page, films, total_pages) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (source, page) DO NOTHING",
        source.name,
        page,
        len(fetched.results),
        fetched.total_pages,
    )


async def _recorded(conn: asyncpg.Connection) -> tuple[dict[str, set[int]], dict[str, int]]:
    """Per source: the pages recorded, and its page count as TMDB last said."""
    pages: dict[str, set[int]] = {}
    totals: dict[str, int] = {}
    for row in await conn.fetch("SELECT source, page, total_pages FROM catalog_sync_pages ORDER BY synced_at"):
        pages.setdefault(row["source"], set()).add(row["page"])
        totals[row["source"]] = row["total_pages"]
    return pages, totals
