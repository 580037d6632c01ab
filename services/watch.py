"""Watch history: mark a film watched, list what a user has watched."""

from __future__ import annotations

from dataclasses import dataclass

from services.catalog import MovieCatalog
from services.db import history
from services.db import movies as movie_repo
from services.db.pool import Database
from services.tmdb.models import MovieDetails

HISTORY_PAGE = 25


@dataclass(frozen=True)
class WatchResult:
    film: MovieDetails
    newly_added: bool
    total: int


@dataclass(frozen=True)
class WatchList:
    films: list[history.WatchedFilm]
    total: int


class WatchService:
    def __init__(self, db: Database, catalog: MovieCatalog) -> None:
        self._db = db
        self._catalog = catalog

    async def mark(self, discord_id: int, title: str) -> WatchResult:
        film = await self._catalog.resolve(title)
        return await self.mark_film(discord_id, film)

    async def mark_id(self, discord_id: int, movie_id: int) -> WatchResult:
        return await self.mark_film(discord_id, await self._catalog.details(movie_id))

    async def mark_film(self, discord_id: int, film: MovieDetails) -> WatchResult:
        async with self._db.transaction() as conn:
            # The film may come from the cache while `movies` lost it (or never stored it).
            await movie_repo.upsert_details(conn, film)
            new = await history.mark_watched(conn, discord_id, film.id)
            total = await history.count_watched(conn, discord_id)
        return WatchResult(film, new, total)

    async def recent(self, discord_id: int, limit: int = HISTORY_PAGE) -> WatchList:
        async with self._db.connection() as conn:
            films = await history.watched_films(conn, discord_id, limit)
            total = await history.count_watched(conn, discord_id)
        return WatchList(films, total)
