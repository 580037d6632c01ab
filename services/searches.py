"""TMDB title search that also lands in the user's search history, and its later pages."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.catalog import MovieCatalog, clean_query
from services.db import history
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import BadInput
from services.tmdb.models import MoviePage
from services.tmdb.reference import Locale


@dataclass(frozen=True)
class SearchResults:
    query: str
    year: int | None
    page: MoviePage
    search_id: int | None  # its search_history row; None when the database could not store it

    @property
    def shown(self) -> str:
        return f"{self.query} ({self.year})" if self.year else self.query


class SearchService:
    def __init__(self, db: Database, catalog: MovieCatalog) -> None:
        self._db = db
        self._catalog = catalog

    async def title_search(
        self, discord_id: int, text: str, year: int | None = None, locale: Locale | None = None
    ) -> SearchResults:
        query = clean_query(text)
        page = await self._catalog.search(query, year=year, locale=locale)

        async def save(conn: asyncpg.Connection) -> int:
            await ensure_user(conn, discord_id)
            return await history.add_search(conn, discord_id, "search", query, year=year)

        # The results do not depend on the history row: with the database down they still show.
        search_id = await self._db.best_effort("a search history row", save)
        return SearchResults(query, year, page, search_id)

    async def recent(self, discord_id: int, limit: int) -> list[history.PastSearch]:
        """The user's last `limit` searches of every kind, newest first."""
        async with self._db.connection() as conn:
            return await history.recent_searches(conn, discord_id, limit)

    async def find(self, search_id: int) -> history.PastSearch:
        """A past search to run again, whoever ran it first."""
        async with self._db.connection() as conn:
            past = await history.any_search(conn, search_id)
        if past is None:
            raise BadInput("That search is no longer in the history; run it again by hand.")
        return past

    async def page(self, discord_id: int, search_id: int, page: int, locale: Locale | None = None) -> SearchResults:
        """Another page of a search the user ran (paging buttons carry only the row's id)."""
        async with self._db.connection() as conn:
            past = await history.get_search(conn, discord_id, search_id)
        if past is None or past.kind != "search":
            raise BadInput("That search is no longer in your history; run `/search` again.")
        results = await self._catalog.search(past.query, year=past.year, page=page, locale=locale)
        return SearchResults(past.query, past.year, results, search_id)
