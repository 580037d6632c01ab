"""👍/👎: what a user thinks of films, per user and film, the latest click counting. A 👎 film
never comes back in their /ask, /foryou, /similar or /semantic results; both join /foryou's
history (its taste profile and its re-ranking)."""

from __future__ import annotations

from collections.abc import Sequence

from services.catalog import MovieCatalog
from services.db import feedback as repo
from services.db import movies as movie_repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import DatabaseUnavailable
from services.tmdb.models import MovieSummary

MAX_AT_ONCE = 25  # a list's select holds at most 25 films


class FeedbackService:
    def __init__(self, db: Database, catalog: MovieCatalog) -> None:
        self._db = db
        self._catalog = catalog

    async def record(self, discord_id: int, movie_ids: Sequence[int], verdict: int) -> list[MovieSummary]:
        """Record 👍 (`repo.LIKE`) or 👎 (`repo.DISLIKE`) for the films; returns them."""
        ids = list(dict.fromkeys(movie_ids))[:MAX_AT_ONCE]
        films = await self._catalog.known(ids)
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
            await movie_repo.upsert_movies(conn, films)  # the verdicts are read with `movies`
            await repo.set_verdict(conn, discord_id, [f.id for f in films], verdict)
        return films

    async def disliked(self, discord_id: int) -> set[int]:
        """The films the user 👎'd; none when the database is away (their results still show)."""
        try:
            async with self._db.connection() as conn:
                return set(await repo.disliked_ids(conn, discord_id))
        except DatabaseUnavailable:
            return set()
