"""Repository functions for `movie_nights` and `night_votes`. The row locks are the contract
(see migrations/0010_movienight.sql): the close holds FOR UPDATE, a tally edit FOR NO KEY
UPDATE, a vote FOR KEY SHARE."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime

import asyncpg

from services.movienight.models import Candidate, Night, Tally

COLUMNS = (
    "id, guild_id, channel_id, message_id, host_id, members, members_only, region, language, candidates,"
    " neutral, names, status, closes_at, winner"
)
LOCKS = {"close": "FOR UPDATE", "tally": "FOR NO KEY UPDATE", "vote": "FOR KEY SHARE", None: ""}


def _night(row: asyncpg.Record) -> Night:
    return Night(
        row["id"],
        row["guild_id"],
        row["channel_id"],
        row["message_id"],
        row["host_id"],
        tuple(row["members"]),
        row["members_only"],
        row["region"],
        row["language"],
        tuple(Candidate.from_stored(c) for c in json.loads(row["candidates"])),
        tuple(row["neutral"]),
        {int(k): str(v) for k, v in json.loads(row["names"]).items()},
        row["status"],
        row["closes_at"],
        row["winner"],
    )


async def create(
    conn: asyncpg.Connection,
    *,
    guild_id: int,
    channel_id: int,
    host_id: int,
    members: Sequence[int],
    members_only: bool,
    region: str,
    language: str,
    candidates: Sequence[Candidate],
    neutral: Sequence[int],
    names: dict[int, str],
    minutes: int,
) -> Night:
    row = await conn.fetchrow(
        f"""
        INSERT INTO movie_nights (guild_id, channel_id, host_id, members, members_only, region, language,
                                  candidates, neutral, names, closes_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, now() + make_interval(mins => $11))
        RETURNING {COLUMNS}
        """,
        guild_id,
        channel_id,
        host_id,
        list(members),
        members_only,
        region,
        language,
        json.dumps([c.stored() for c in candidates]),
        list(neutral),
        json.dumps({str(k): v for k, v in names.items()}),
        minutes,
    )
    assert row is not None
    return _night(row)


async def get(conn: asyncpg.Connection, night_id: int, lock: str | None = None) -> Night | None:
    row = await conn.fetchrow(f"SELECT {COLUMNS} FROM movie_nights WHERE id = $1 {LOCKS[lock]}", night_id)
    return _night(row) if row else None


async def set_message(conn: asyncpg.Connection, night_id: int, message_id: int) -> None:
    await conn.execute("UPDATE movie_nights SET message_id = $2 WHERE id = $1", night_id, message_id)


async def delete(conn: asyncpg.Connection, night_id: int) -> None:
    await conn.execute("DELETE FROM movie_nights WHERE id = $1", night_id)


async def vote(conn: asyncpg.Connection, night_id: int, discord_id: int, choice: int) -> bool:
    """Record a vote; False when it was already this one (nothing written)."""
    status = await conn.execute(
        """
        INSERT INTO night_votes (night_id, discord_id, choice) VALUES ($1, $2, $3)
        ON CONFLICT (night_id, discord_id) DO UPDATE SET choice = EXCLUDED.choice, voted_at = now()
        WHERE night_votes.choice <> EXCLUDED.choice
        """,
        night_id,
        discord_id,
        choice,
    )
    return str(status).endswith(" 1")


async def tally(conn: asyncpg.Connection, night_id: int, candidates: int) -> Tally:
    rows = await conn.fetch(
        "SELECT choice, count(*) AS n FROM night_votes WHERE night_id = $1 GROUP BY choice", night_id
    )
    counts = {r["choice"]: int(r["n"]) for r in rows}
    return Tally(tuple(counts.get(n, 0) for n in range(1, candidates + 1)))


async def finish(conn: asyncpg.Connection, night_id: int, status: str, winner: int | None) -> None:
    await conn.execute(
        "UPDATE movie_nights SET status = $2, winner = $3, closed_at = now() WHERE id = $1", night_id, status, winner
    )


async def failed_to_close(conn: asyncpg.Connection, night_id: int) -> int:
    """Count a failed attempt to show the close; returns how many there have been."""
    failures = await conn.fetchval(
        "UPDATE movie_nights SET close_failures = close_failures + 1 WHERE id = $1 RETURNING close_failures", night_id
    )
    return int(failures or 0)


async def due(conn: asyncpg.Connection, limit: int = 100) -> list[int]:
    """Open nights whose time is up, the longest due first."""
    rows = await conn.fetch(
        "SELECT id FROM movie_nights WHERE status = 'open' AND closes_at <= now() ORDER BY closes_at LIMIT $1", limit
    )
    return [r["id"] for r in rows]


async def next_due(conn: asyncpg.Connection) -> datetime | None:
    value: datetime | None = await conn.fetchval("SELECT min(closes_at) FROM movie_nights WHERE status = 'open'")
    return value
