"""Repository functions for `user_settings` (/settings)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.db.upsert import upsert

# What /settings can change: a fixed set, so no user input ever names a column.
COLUMNS = ("region", "language", "services", "spoilers", "alerts")
RETURNING = "region, language, services, spoilers, alerts"


@dataclass(frozen=True, slots=True)
class StoredSettings:
    region: str | None
    language: str | None
    services: tuple[int, ...]
    spoilers: bool
    alerts: bool


async def get(conn: asyncpg.Connection, discord_id: int) -> StoredSettings | None:
    row = await conn.fetchrow(f"SELECT {RETURNING} FROM user_settings WHERE discord_id = $1", discord_id)
    return _stored(row) if row is not None else None


async def save(conn: asyncpg.Connection, discord_id: int, changes: dict[str, object]) -> StoredSettings:
    """Write the given settings (the others as they were), and return them all."""
    return _stored(await upsert(conn, "user_settings", ("discord_id", discord_id), changes, COLUMNS, RETURNING))


def _stored(row: asyncpg.Record) -> StoredSettings:
    return StoredSettings(row["region"], row["language"], tuple(row["services"]), row["spoilers"], row["alerts"])


async def forget_seen(conn: asyncpg.Connection, discord_id: int) -> None:
    """Alerts start afresh: the next sweep records each listed film as it is then, alerting for
    nothing already true."""
    await conn.execute(
        "UPDATE watchlist SET seen_region = NULL, seen_streaming = NULL, seen_released = NULL WHERE discord_id = $1",
        discord_id,
    )
