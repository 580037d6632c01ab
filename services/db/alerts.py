"""Repository functions for availability alerts: the watchlisted films of users with alerts on,
and what each entry was when last looked at (`watchlist.seen_*`)."""

from __future__ import annotations

import json
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Watcher:
    """One user's watchlist entry of a film, with what they see it through."""

    discord_id: int
    region: str
    services: tuple[int, ...]
    seen_region: str | None
    seen_streaming: tuple[int, ...] | None
    seen_released: bool | None


async def watched_films(conn: asyncpg.Connection) -> list[int]:
    """Every film on the watchlist of someone with alerts on, each once."""
    rows = await conn.fetch(
        "SELECT DISTINCT w.tmdb_id FROM watchlist w JOIN user_settings s ON s.discord_id = w.discord_id"
        " WHERE s.alerts AND w.media_type = 'movie' ORDER BY w.tmdb_id"
    )
    return [r["tmdb_id"] for r in rows]


async def lock_watchers(conn: asyncpg.Connection, movie_id: int, default_region: str) -> list[Watcher]:
    """The film's watchers with alerts on, their entries locked until the transaction ends: a
    sweep running beside this one waits, then sees what this one recorded."""
    rows = await conn.fetch(
        """
        SELECT w.discord_id, coalesce(s.region, $2) AS region, s.services,
               w.seen_region, w.seen_streaming, w.seen_released
        FROM watchlist w JOIN user_settings s ON s.discord_id = w.discord_id
        WHERE w.media_type = 'movie' AND w.tmdb_id = $1 AND s.alerts
        ORDER BY w.discord_id
        FOR UPDATE OF w
        """,
        movie_id,
        default_region,
    )
    return [
        Watcher(
            r["discord_id"],
            r["region"],
            tuple(r["services"]),
            r["seen_region"],
            None if r["seen_streaming"] is None else tuple(r["seen_streaming"]),
            r["seen_released"],
        )
        for r in rows
    ]


async def record_seen(
    conn: asyncpg.Connection, discord_id: int, movie_id: int, region: str, streaming: list[int], released: bool
) -> None:
    await conn.execute(
        "UPDATE watchlist SET seen_region = $3, seen_streaming = $4, seen_released = $5"
        " WHERE discord_id = $1 AND media_type = 'movie' AND tmdb_id = $2",
        discord_id,
        movie_id,
        region,
        streaming,
        released,
    )


@dataclass(frozen=True, slots=True)
class Undelivered:
    movie_id: int
    kind: str
    payload: dict[str, object]


async def undelivered(
    conn: asyncpg.Connection, discord_id: int, movie_ids: list[int], kinds: tuple[str, ...], failure: str
) -> dict[int, Undelivered]:
    """Per film, its latest alert when that one failed with `failure` (closed DMs)."""
    rows = await conn.fetch(
        """
        SELECT * FROM (
            SELECT DISTINCT ON (payload->>'movie_id') (payload->>'movie_id')::int AS movie_id, kind, payload, failure
            FROM notices
            WHERE discord_id = $1 AND kind = ANY($3::text[]) AND payload->>'movie_id' = ANY($2::text[])
            ORDER BY payload->>'movie_id', id DESC
        ) latest WHERE failure = $4
        """,
        discord_id,
        [str(i) for i in movie_ids],
        list(kinds),
        failure,
    )
    return {r["movie_id"]: Undelivered(r["movie_id"], r["kind"], json.loads(r["payload"])) for r in rows}
