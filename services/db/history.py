"""Repository functions for `watch_history` and `search_history`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

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
    created_at: datetime


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


async def watched_films(conn: asyncpg.Connection, discord_id: int, limit: int) -> list[WatchedFilm]:
    rows = await conn.fetch(
        """
        SELECT w.movie_id, m.title, m.release_date, w.watched_at
        FROM watch_history w JOIN movies m ON m.id = w.movie_id
        WHERE w.discord_id = $1
        ORDER BY w.watched_at DESC
        LIMIT $2
        """,
        discord_id,
        limit,
    )
    return [WatchedFilm(r["movie_id"], r["title"], r["release_date"], r["watched_at"]) for r in rows]


async def count_watched(conn: asyncpg.Connection, discord_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM watch_history WHERE discord_id = $1", discord_id))


async def add_search(conn: asyncpg.Connection, discord_id: int, kind: str, query: str) -> None:
    await conn.execute(
        "INSERT INTO search_history (discord_id, kind, query) VALUES ($1, $2, $3)", discord_id, kind, query
    )


async def recent_searches(conn: asyncpg.Connection, discord_id: int, limit: int) -> list[PastSearch]:
    rows = await conn.fetch(
        "SELECT id, kind, query, created_at FROM search_history WHERE discord_id = $1"
        " ORDER BY created_at DESC, id DESC LIMIT $2",
        discord_id,
        limit,
    )
    return [PastSearch(r["id"], r["kind"], r["query"], r["created_at"]) for r in rows]
