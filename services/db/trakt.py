"""Repository functions for `trakt_links`: a user's Trakt connection (tokens encrypted by the
caller) and where its sync got to."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class Link:
    discord_id: int
    access_token: str  # encrypted
    refresh_token: str  # encrypted
    expires_at: datetime
    activities: dict[str, Any] | None
    synced_at: datetime | None
    broken: str | None
    created_at: datetime


def _link(row: asyncpg.Record) -> Link:
    activities = json.loads(row["activities"]) if row["activities"] else None
    return Link(
        row["discord_id"],
        row["access_token"],
        row["refresh_token"],
        row["expires_at"],
        activities,
        row["synced_at"],
        row["broken"],
        row["created_at"],
    )


async def save_link(conn: asyncpg.Connection, discord_id: int, access: str, refresh: str, expires_at: datetime) -> None:
    """A new connection (replacing any before it: its sync starts again from nothing)."""
    await conn.execute(
        """
        INSERT INTO trakt_links (discord_id, access_token, refresh_token, expires_at) VALUES ($1, $2, $3, $4)
        ON CONFLICT (discord_id) DO UPDATE SET access_token = $2, refresh_token = $3, expires_at = $4,
            activities = NULL, synced_at = NULL, broken = NULL, created_at = now()
        """,
        discord_id,
        access,
        refresh,
        expires_at,
    )


async def save_tokens(
    conn: asyncpg.Connection, discord_id: int, access: str, refresh: str, expires_at: datetime
) -> None:
    await conn.execute(
        "UPDATE trakt_links SET access_token = $2, refresh_token = $3, expires_at = $4 WHERE discord_id = $1",
        discord_id,
        access,
        refresh,
        expires_at,
    )


async def get(conn: asyncpg.Connection, discord_id: int, *, lock: bool = False) -> Link | None:
    row = await conn.fetchrow(
        "SELECT * FROM trakt_links WHERE discord_id = $1" + (" FOR UPDATE" if lock else ""), discord_id
    )
    return _link(row) if row else None


async def connected(conn: asyncpg.Connection) -> list[int]:
    rows = await conn.fetch("SELECT discord_id FROM trakt_links WHERE broken IS NULL ORDER BY discord_id")
    return [r["discord_id"] for r in rows]


async def mark_synced(
    conn: asyncpg.Connection, discord_id: int, activities: dict[str, Any], synced_at: datetime
) -> None:
    await conn.execute(
        "UPDATE trakt_links SET activities = $2, synced_at = $3 WHERE discord_id = $1",
        discord_id,
        json.dumps(activities),
        synced_at,
    )


async def mark_broken(conn: asyncpg.Connection, discord_id: int, reason: str) -> bool:
    """True the first time (the user is told once)."""
    status = await conn.execute(
        "UPDATE trakt_links SET broken = $2 WHERE discord_id = $1 AND broken IS NULL", discord_id, reason
    )
    return bool(status == "UPDATE 1")


async def delete(conn: asyncpg.Connection, discord_id: int) -> Link | None:
    row = await conn.fetchrow("DELETE FROM trakt_links WHERE discord_id = $1 RETURNING *", discord_id)
    return _link(row) if row else None
