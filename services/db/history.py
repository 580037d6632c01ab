"""Repository functions for `watch_history` and `search_history`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class WatchedFilm:
    movie_id: int
    title: str
    release_date: date | None
    watched_at: datetime


@dataclass(frozen=True, slots=True)
class PastSearch:
    id: int
    kind: str
    query: str
    year: int | None
    created_at: datetime
    movie_ids: tuple[int, ...] = ()  # what an /ask matched
    filters: dict[str, Any] = field(default_factory=dict)  # an /ask's (see services/ai/filters.py)


async def mark_watched(conn: asyncpg.Connection, discord_id: int, movie_id: int) -> bool:
    """Record (or refresh) a watch; True when the film was not in the history before."""
    inserted = await conn.fetchval(
        """
        INSERT INTO watch_history (discord_id, movie_id) VALUES ($1, $2)
        ON CONFLICT (discord_id, movie_id) DO UPDATE SET watched_at = now()
        RETURNING (xmax = 0)
        """,
        discord_id,
        movie_id,
    )
    return bool(inserted)


async def unmark_watched(conn: asyncpg.Connection, discord_id: int, movie_id: int) -> bool:
    """Remove a film from the history; True when it was there."""
    status = await conn.execute(
        "DELETE FROM watch_history WHERE discord_id = $1 AND movie_id = $2", discord_id, movie_id
    )
    return bool(status == "DELETE 1")


async def watched_films(conn: asyncpg.Connection, discord_id: int, limit: int, offset: int = 0) -> list[WatchedFilm]:
    rows = await conn.fetch(
        """
        SELECT w.movie_id, m.title, m.release_date, w.watched_at
        FROM watch_history w JOIN movies m ON m.id = w.movie_id
        WHERE w.discord_id = $1
        ORDER BY w.watched_at DESC, w.movie_id
        LIMIT $2 OFFSET $3
        """,
        discord_id,
        limit,
        offset,
    )
    return [WatchedFilm(r["movie_id"], r["title"], r["release_date"], r["watched_at"]) for r in rows]


async def count_watched(conn: asyncpg.Connection, discord_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM watch_history WHERE discord_id = $1", discord_id))


async def add_search(
    conn: asyncpg.Connection,
    discord_id: int,
    kind: str,
    query: str,
    *,
    year: int | None = None,
    movie_ids: Sequence[int] = (),
    filters: dict[str, Any] | None = None,
) -> int:
    """Record a search; returns its id."""
    search_id = await conn.fetchval(
        "INSERT INTO search_history (discord_id, kind, query, year, movie_ids, filters)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb) RETURNING id",
        discord_id,
        kind,
        query,
        year,
        list(movie_ids),
        json.dumps(filters or {}),
    )
    return int(search_id)


_PAST = "id, kind, query, year, created_at, movie_ids, filters"


async def any_search(conn: asyncpg.Connection, search_id: int) -> PastSearch | None:
    """A search by id whoever ran it (/history's buttons re-run it for whoever clicks)."""
    row = await conn.fetchrow(f"SELECT {_PAST} FROM search_history WHERE id = $1", search_id)
    return None if row is None else _past(row)


def _past(row: asyncpg.Record) -> PastSearch:
    return PastSearch(
        row["id"],
        row["kind"],
        row["query"],
        row["year"],
        row["created_at"],
        tuple(row["movie_ids"]),
        json.loads(row["filters"]),
    )


async def get_search(conn: asyncpg.Connection, discord_id: int, search_id: int) -> PastSearch | None:
    row = await conn.fetchrow(
        f"SELECT {_PAST} FROM search_history WHERE id = $1 AND discord_id = $2", search_id, discord_id
    )
    return None if row is None else _past(row)


async def recent_searches(conn: asyncpg.Connection, discord_id: int, limit: int) -> list[PastSearch]:
    """The user's latest searches, newest first; one asked again (same kind, text aside from case
    and surrounding spaces, and year) counts once, at its latest time."""
    rows = await conn.fetch(
        f"""
        SELECT {_PAST} FROM (
            SELECT DISTINCT ON (kind, lower(btrim(query)), year, filters) {_PAST}
            FROM (SELECT {_PAST} FROM search_history WHERE discord_id = $1
                  ORDER BY created_at DESC, id DESC LIMIT $2 * 20) recent
            ORDER BY kind, lower(btrim(query)), year, filters, created_at DESC, id DESC
        ) latest
        ORDER BY created_at DESC, id DESC LIMIT $2
        """,
        discord_id,
        limit,
    )
    return [_past(r) for r in rows]


async def watched_ids(conn: asyncpg.Connection, discord_id: int, limit: int | None = 5000) -> list[int]:
    """The films a user has watched, most recent first (all of them: `limit` None)."""
    rows = await conn.fetch(
        "SELECT movie_id FROM watch_history WHERE discord_id = $1 ORDER BY watched_at DESC LIMIT $2",
        discord_id,
        limit,
    )
    return [r["movie_id"] for r in rows]
