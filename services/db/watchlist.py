"""Repository functions for `watchlist` (films only today: media type 'movie')."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

# How /watchlist can be sorted: a fixed set, so user input never reaches the SQL.
ORDERS = {
    "added": "w.added_at DESC",
    "release": "m.release_date DESC NULLS LAST, w.added_at DESC",
    "rating": "m.vote_average DESC, m.vote_count DESC, w.added_at DESC",
}


@dataclass(frozen=True, slots=True)
class Listed:
    movie_id: int
    title: str
    release_date: date | None
    vote_average: float
    added_at: datetime


async def add(conn: asyncpg.Connection, discord_id: int, movie_id: int) -> bool:
    """False when the film was on the list already (nothing changes)."""
    inserted = await conn.fetchval(
        "INSERT INTO watchlist (discord_id, media_type, tmdb_id) VALUES ($1, 'movie', $2)"
        " ON CONFLICT DO NOTHING RETURNING true",
        discord_id,
        movie_id,
    )
    return bool(inserted)


async def remove(conn: asyncpg.Connection, discord_id: int, movie_id: int) -> bool:
    removed = await conn.fetchval(
        "DELETE FROM watchlist WHERE discord_id = $1 AND media_type = 'movie' AND tmdb_id = $2 RETURNING true",
        discord_id,
        movie_id,
    )
    return bool(removed)


async def contains(conn: asyncpg.Connection, discord_id: int, movie_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT true FROM watchlist WHERE discord_id = $1 AND media_type = 'movie' AND tmdb_id = $2",
            discord_id,
            movie_id,
        )
    )


async def count(conn: asyncpg.Connection, discord_id: int) -> int:
    return int(await conn.fetchval("SELECT count(*) FROM watchlist WHERE discord_id = $1", discord_id))


async def page(conn: asyncpg.Connection, discord_id: int, order: str, limit: int, offset: int) -> list[Listed]:
    rows = await conn.fetch(
        f"""
        SELECT m.id, m.title, m.release_date, m.vote_average, w.added_at
        FROM watchlist w JOIN movies m ON w.media_type = 'movie' AND m.id = w.tmdb_id
        WHERE w.discord_id = $1
        ORDER BY {ORDERS[order]}, m.id
        LIMIT $2 OFFSET $3
        """,
        discord_id,
        limit,
        offset,
    )
    return [Listed(r["id"], r["title"], r["release_date"], r["vote_average"], r["added_at"]) for r in rows]
