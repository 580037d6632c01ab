"""Films from TMDB for the rest of the app: lists, search, details, title resolution and
autocomplete suggestions. Films TMDB sends us are remembered in `movies`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from services.db import movies as movie_repo
from services.db.pool import Database
from services.errors import BadInput, DatabaseUnavailable, MarqueeError, MovieNotFound
from services.tmdb.client import TMDBClient
from services.tmdb.models import LIST_KINDS, ImageConfig, MovieDetails, MoviePage, MovieSummary

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
SUGGEST_DEADLINE = 1.5  # seconds autocomplete waits for TMDB before answering from what we have


def clean_query(text: str) -> str:
    """Trim and check a user's free text; BadInput says plainly what is wrong with it."""
    query = " ".join(text.split())
    if not query:
        raise BadInput("Type a few words to search for.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(f"That is {len(query)} characters; keep it under {MAX_QUERY_LENGTH}.")
    return query


class MovieCatalog:
    def __init__(self, tmdb: TMDBClient, db: Database) -> None:
        self._tmdb = tmdb
        self._db = db

    async def browse(self, kind: str, page: int = 1) -> MoviePage:
        if kind not in LIST_KINDS:
            raise BadInput(f"There is no list called {kind!r}; pick one of: {', '.join(LIST_KINDS)}.")
        if not 1 <= page <= MAX_PAGE:
            raise BadInput(f"Pages go from 1 to {MAX_PAGE}.")
        fetched = await self._tmdb.movie_list(kind, page)
        if fetched.fresh:
            await self._remember(fetched.data.results)
        return fetched.data

    async def search(self, text: str, *, year: int | None = None, page: int = 1) -> MoviePage:
        fetched = await self._tmdb.search(clean_query(text), year=year, page=page)
        if fetched.fresh:
            await self._remember(fetched.data.results)
        return fetched.data

    async def details(self, movie_id: int) -> MovieDetails:
        if not 0 < movie_id < 2**31:
            raise MovieNotFound(movie_id)
        fetched = await self._tmdb.details(movie_id)
        details = fetched.data
        if fetched.fresh:
            await self._remember([details.summary], {details.id: details.runtime} if details.runtime else None)
        return details

    async def resolve(self, title: str) -> MovieDetails:
        """A film from an autocomplete value (its TMDB id) or from a title typed by hand."""
        text = title.strip()
        if text.isdigit():
            return await self.details(int(text))
        page = await self.search(text)
        if not page.results:
            raise MovieNotFound(text)
        return await self.details(page.results[0].id)

    async def suggest(self, text: str, limit: int = 25) -> list[MovieSummary]:
        """Autocomplete: TMDB search when it answers in time, else the films we already know.

        Never raises: a slow TMDB keeps loading in the background and fills the cache for
        the next keystroke.
        """
        query = " ".join(text.split())[:MAX_QUERY_LENGTH]
        try:
            if not query:
                return list((await self.browse("popular")).results[:limit])
            page = await asyncio.wait_for(self._tmdb.search(query), SUGGEST_DEADLINE)
            return list(page.data.results[:limit])
        except (TimeoutError, MarqueeError):
            pass
        if not query:
            return []
        try:
            async with self._db.connection() as conn:
                return await movie_repo.find_by_title_prefix(conn, query, limit)
        except DatabaseUnavailable:
            return []

    async def image_config(self) -> ImageConfig:
        return await self._tmdb.image_config()

    async def genre_names(self) -> dict[int, str]:
        return await self._tmdb.genres()

    async def _remember(self, films: Sequence[MovieSummary], runtimes: dict[int, int] | None = None) -> None:
        # Remembering feeds later features; a database hiccup must not cost the user their answer.
        try:
            async with self._db.transaction() as conn:
                await movie_repo.upsert_movies(conn, films, runtimes)
        except DatabaseUnavailable as exc:
            log.warning("could not store %d films: %s", len(films), exc)
