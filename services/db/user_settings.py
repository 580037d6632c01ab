"""Repository functions for `user_settings` (/settings)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

# What /settings can change: a fixed set, so no user input ever names a column.
COLUMNS = ("region", "language", "services", "spoilers", "alerts")


@dataclass(frozen=True, slots=True)
class StoredSettings:
    region: str | None
    language: str | None
    services: tuple[int, ...]
    spoilers: bool
    alerts: bool


async def get(conn: asyncpg.Connection, discord_id: int) -> StoredSettings | None:
    row = await conn.fetchrow(
        "SELECT region, language, services, spoilers, alerts FROM user_settings WHERE discord_id = $1", discord_id
    )
    if row is None:
        return None
    return StoredSettings(row["region"], row["language"], tuple(row["services"]), row["spoilers"], row["alerts"])


async def save(conn: asyncpg.Connection, discord_id: int, changes: dict[str, object]) -> StoredSettings:
    """Write the given settings (the others as they were), and return them all. Locks the row:
    two changes at once (a click and a command) both land."""
    names = [c for c in COLUMNS if c in changes]
    if not names or len(names) != len(changes):
        raise ValueError(f"settings to save: {sorted(changes)}")
    placeholders = ", ".join(f"${n + 2}" for n in range(len(names)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    row = await conn.fetchrow(
        f"INSERT INTO user_settings (discord_id, {', '.join(names)}) VALUES ($1, {placeholders})"
        f" ON CONFLICT (discord_id) DO UPDATE SET {updates}, updated_at = now()"
        " RETURNING region, language, services, spoilers, alerts",
        discord_id,
        *(changes[c] for c in names),
    )
    assert row is not None
    return StoredSettings(row["region"], row["language"], tuple(row["services"]), row["spoilers"], row["alerts"])


async def forget_seen(conn: asyncpg.Connection, discord_id: int) -> None:
    """Alerts start afresh: the next sweep records each listed film as it is then, alerting for
    nothing already true."""
    await conn.execute(
        "UPDATE watchlist SET seen_region = NULL, seen_streaming = NULL, seen_released = NULL WHERE discord_id = $1",
        discord_id,
    )
