"""The watchlist: films a user means to watch. Any film, released or not; adding twice changes
nothing; marking a film watched (anywhere) takes it off (services/watch.py). A page says which
films stream on the user's services, and which alert could not reach them (closed DMs)."""

from __future__ import annotations

from dataclasses import dataclass, field

from services.catalog import MovieCatalog
from services.db import alerts as alerts_repo
from services.db import movies as movie_repo
from services.db import watchlist as repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import BadInput
from services.notices import DMS_CLOSED
from services.personal import alerts
from services.personal.my_services import MyServices
from services.personal.settings import Preferences
from services.tmdb.models import MovieSummary

PAGE = 10
SORTS = {"added": "Date added", "release": "Release date, newest first", "rating": "Rating, highest first"}


@dataclass(frozen=True)
class Change:
    film: MovieSummary
    changed: bool  # False: it already was (or was not) on the list


@dataclass(frozen=True)
class WatchlistPage:
    films: list[repo.Listed]
    total: int
    page: int
    sort: str
    streaming: dict[int, tuple[str, ...]] = field(default_factory=dict)  # film -> the user's services streaming it
    undelivered: dict[int, alerts_repo.Undelivered] = field(default_factory=dict)  # film -> alert lost to closed DMs

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE))


class WatchlistService:
    def __init__(self, db: Database, catalog: MovieCatalog, my_services: MyServices) -> None:
        self._db = db
        self._catalog = catalog
        self._my_services = my_services

    async def add(self, discord_id: int, movie_id: int, region: str) -> Change:
        """Add the film; what it is in the user's `region` now is recorded, so that alerts only
        announce what changes after."""
        film = await self._catalog.details(movie_id)
        seen = alerts.Availability.of(film, region)
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
            await movie_repo.upsert_details(conn, film)  # the list is read from `movies`
            added = await repo.add(conn, discord_id, film.id)
            if added:
                await alerts_repo.record_seen(conn, discord_id, film.id, region, seen.streaming, seen.released)
        return Change(film.summary, added)

    async def remove(self, discord_id: int, movie_id: int) -> Change:
        (film,) = await self._catalog.known([movie_id])
        async with self._db.transaction() as conn:
            removed = await repo.remove(conn, discord_id, film.id)
        return Change(film, removed)

    async def contains(self, discord_id: int, movie_id: int) -> bool:
        async with self._db.connection() as conn:
            return await repo.contains(conn, discord_id, movie_id)

    async def page(
        self, discord_id: int, page: int = 1, sort: str = "added", prefs: Preferences | None = None
    ) -> WatchlistPage:
        """A page of the list; with the user's `prefs`, which films stream on their services."""
        if sort not in SORTS:
            raise BadInput(f"Sort by one of: {', '.join(SORTS.values())}.")
        async with self._db.connection() as conn:
            total = await repo.count(conn, discord_id)
            pages = max(1, -(-total // PAGE))
            page = min(max(1, page), pages)
            films = await repo.page(conn, discord_id, sort, PAGE, (page - 1) * PAGE)
            ids = [f.movie_id for f in films]
            lost = await alerts_repo.undelivered(conn, discord_id, ids, alerts.KINDS, DMS_CLOSED)
        streaming = await self._my_services.streaming_on(ids, prefs) if prefs and prefs.services else {}
        return WatchlistPage(films, total, page, sort, streaming, lost)
