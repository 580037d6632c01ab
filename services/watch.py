"""Watch history: mark a film watched, remove one, list what a user has watched a page at a time."""

from __future__ import annotations

from dataclasses import dataclass

from services.catalog import MovieCatalog
from services.db import history, watchlist
from services.db import movies as movie_repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import NotReleased
from services.tmdb.models import MovieDetails, MovieSummary

HISTORY_PAGE = 10


@dataclass(frozen=True)
class WatchResult:
    film: MovieDetails
    newly_added: bool
    total: int
    others: tuple[MovieSummary, ...] = ()  # other films with the title typed ("Not this one?")


@dataclass(frozen=True)
class WatchList:
    films: list[history.WatchedFilm]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // HISTORY_PAGE))


class WatchService:
    def __init__(self, db: Database, catalog: MovieCatalog) -> None:
        self._db = db
        self._catalog = catalog

    async def mark(self, discord_id: int, title: str) -> WatchResult:
        resolved = await self._catalog.resolve(title)
        result = await self.mark_film(discord_id, resolved.film)
        return WatchResult(result.film, result.newly_added, result.total, resolved.others)

    async def mark_id(self, discord_id: int, movie_id: int) -> WatchResult:
        return await self.mark_film(discord_id, await self._catalog.details(movie_id))

    async def mark_film(self, discord_id: int, film: MovieDetails) -> WatchResult:
        if not film.summary.released():
            assert film.summary.release_date is not None
            raise NotReleased(film.summary.label, film.summary.release_date.strftime("%-d %B %Y"))
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
            # The film may come from the cache while `movies` lost it (or never stored it).
            await movie_repo.upsert_details(conn, film)
            new = await history.mark_watched(conn, discord_id, film.id)
            await watchlist.remove(conn, discord_id, film.id)  # watched: no longer to watch
            total = await history.count_watched(conn, discord_id)
        return WatchResult(film, new, total)

    async def unmark(self, discord_id: int, movie_id: int) -> bool:
        async with self._db.transaction() as conn:
            return await history.unmark_watched(conn, discord_id, movie_id)

    async def recent(self, discord_id: int, page: int = 1) -> WatchList:
        async with self._db.connection() as conn:
            total = await history.count_watched(conn, discord_id)
            pages = max(1, -(-total // HISTORY_PAGE))
            page = min(max(1, page), pages)
            films = await history.watched_films(conn, discord_id, HISTORY_PAGE, (page - 1) * HISTORY_PAGE)
        return WatchList(films, total, page)
