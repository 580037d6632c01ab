"""TMDB title search that also lands in the user's search history."""

from __future__ import annotations

from services.catalog import MovieCatalog, clean_query
from services.db import history
from services.db.pool import Database
from services.tmdb.models import MoviePage


class SearchService:
    def __init__(self, db: Database, catalog: MovieCatalog) -> None:
        self._db = db
        self._catalog = catalog

    async def title_search(self, discord_id: int, text: str, year: int | None = None) -> MoviePage:
        query = clean_query(text)
        page = await self._catalog.search(query, year=year)
        async with self._db.transaction() as conn:
            await history.add_search(conn, discord_id, "search", f"{query} ({year})" if year else query)
        return page
