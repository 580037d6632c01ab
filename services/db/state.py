"""Repository functions for `app_state`, small facts the processes share."""

from __future__ import annotations

import asyncpg


async def get_state(conn: asyncpg.Connection, key: str) -> str | None:
    value = await conn.fetchval("SELECT value FROM app_state WHERE key = $1", key)
    return None if value is None else str(value)


async def set_state(conn: asyncpg.Connection, key: str, value: str) -> None:
    await conn.execute(
        "INSERT INTO app_state (key, value) VALUES ($1, $2)"
        " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = now()",
        key,
        value,
    )
