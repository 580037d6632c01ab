"""Repository functions for `movies`, the TMDB catalogue we have seen."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import asyncpg

from services.tmdb.models import MovieDetails, MovieSummary

log = logging.getLogger(__name__)

# What is said of one row's values, by the database (a number out of a column's range, text it
# cannot hold, a constraint) or by asyncpg before sending (a value its codec cannot encode: a
# ValueError): that row is refused, the others are stored. Anything else (a deadlock, the
# connection lost) fails the whole store.
DEADLOCK_TRIES = 3
ROW_ERRORS = (asyncpg.DataError, asyncpg.IntegrityConstraintViolationError, ValueError)

_UPSERT = """
INSERT INTO movies (id, title, original_title, release_date, overview, poster_path, genre_ids,
                    popularity, vote_average, vote_count, runtime, adult)
SELECT id, title, original_title, release_date, overview, poster_path, genre_ids::int[],
       popularity, vote_average, vote_count, runtime, adult
FROM unnest($1::int[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[], $7::text[],
            $8::float8[], $9::float8[], $10::int[], $11::int[], $12::bool[])
         AS t(id, title, original_title, release_date, overview, poster_path, genre_ids,
              popularity, vote_average, vote_count, runtime, adult)
ON CONFLICT (id) DO UPDATE SET
    title = EXCLUDED.title, original_title = EXCLUDED.original_title,
    release_date = EXCLUDED.release_date, overview = EXCLUDED.overview,
    poster_path = EXCLUDED.poster_path, genre_ids = EXCLUDED.genre_ids,
    popularity = EXCLUDED.popularity, vote_average = EXCLUDED.vote_average,
    vote_count = EXCLUDED.vote_count, runtime = COALESCE(EXCLUDED.runtime, movies.runtime),
    adult = EXCLUDED.adult, updated_at = now()
RETURNING id, (xmax = 0) AS inserted
"""
# Films seen in another language than the catalogue's: new ones enter, known ones keep their text.
_INSERT_NEW = _UPSERT.split("ON CONFLICT")[0] + "ON CONFLICT (id) DO NOTHING\nRETURNING id, true AS inserted\n"


async def upsert_movies(
    conn: asyncpg.Connection,
    movies: Iterable[MovieSummary],
    runtimes: dict[int, int] | None = None,
    *,
    keep_existing: bool = False,
) -> list[int]:
    """Insert or refresh films in one statement (unnest of arrays: one round trip for a page);
    `keep_existing`: insert the new ones only (their text is in another language than the
    catalogue's). Returns the ids of the films that were not in the catalogue before. Should the
    database refuse a row, each film is stored on its own and only the refused ones are left out."""
    statement = _INSERT_NEW if keep_existing else _UPSERT
    # In id order: concurrent stores of overlapping pages then lock rows in one order, never a cycle.
    rows = sorted({m.id: m for m in movies}.values(), key=lambda m: m.id)
    if not rows:
        return []
    runtimes = runtimes or {}
    try:
        for attempt in range(DEADLOCK_TRIES):
            try:
                async with conn.transaction():  # a savepoint inside the caller's transaction
                    return await _upsert(conn, statement, rows, runtimes)
            except asyncpg.TransactionRollbackError:  # a deadlock or serialization failure: transient
                if attempt + 1 == DEADLOCK_TRIES:
                    raise
    except ROW_ERRORS as exc:
        if len(rows) == 1:
            raise
        log.warning("the database refused a film of %d (%s); storing them one by one", len(rows), exc)
    new: list[int] = []
    for film in rows:
        try:
            async with conn.transaction():
                new += await _upsert(conn, statement, [film], runtimes)
        except ROW_ERRORS as exc:
            log.warning("film %d not stored: %s: %s", film.id, type(exc).__name__, exc)
    return new


async def _upsert(
    conn: asyncpg.Connection, statement: str, rows: list[MovieSummary], runtimes: dict[int, int]
) -> list[int]:
    # genre_ids travel as text ('{1,2}') because asyncpg cannot pass an array of arrays of
    # different lengths through unnest; Postgres casts it back below.
    stored = await conn.fetch(
        statement,
        [m.id for m in rows],
        [m.title for m in rows],
        [m.original_title for m in rows],
        [m.release_date for m in rows],
        [m.overview for m in rows],
        [m.poster_path for m in rows],
        ["{" + ",".join(map(str, m.genre_ids)) + "}" for m in rows],
        [m.popularity for m in rows],
        [m.vote_average for m in rows],
        [m.vote_count for m in rows],
        [runtimes.get(m.id) for m in rows],
        [m.adult for m in rows],
    )
    return [r["id"] for r in stored if r["inserted"]]


async def upsert_details(conn: asyncpg.Connection, details: MovieDetails) -> None:
    runtimes = {details.id: details.runtime} if details.runtime else None
    await upsert_movies(conn, [details.summary], runtimes)


async def find_by_title_prefix(conn: asyncpg.Connection, text: str, limit: int) -> list[MovieSummary]:
    """Films we have seen whose title starts with (or else contains) `text`, most popular first."""
    rows = await conn.fetch(
        f"""
        SELECT {_SUMMARY}
        FROM movies
        WHERE (lower(title) LIKE $1 || '%' OR lower(title) LIKE '%' || $1 || '%') AND NOT adult
        ORDER BY lower(title) LIKE $1 || '%' DESC, popularity DESC
        LIMIT $2
        """,
        _like_escape(text.lower()),
        limit,
    )
    return [_summary(r) for r in rows]


async def by_ids(conn: asyncpg.Connection, movie_ids: Sequence[int]) -> dict[int, MovieSummary]:
    """Films of the catalogue by id (adult ones never)."""
    rows = await conn.fetch(f"SELECT {_SUMMARY} FROM movies WHERE id = ANY($1::int[]) AND NOT adult", list(movie_ids))
    return {r["id"]: _summary(r) for r in rows}


_SUMMARY = (
    "id, title, original_title, release_date, overview, poster_path, genre_ids, popularity, vote_average, vote_count"
)


def _summary(r: asyncpg.Record) -> MovieSummary:
    return MovieSummary(
        id=r["id"],
        title=r["title"],
        original_title=r["original_title"],
        release_date=r["release_date"],
        overview=r["overview"],
        poster_path=r["poster_path"],
        genre_ids=tuple(r["genre_ids"]),
        popularity=r["popularity"],
        vote_average=r["vote_average"],
        vote_count=r["vote_count"],
    )


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
