"""Repository functions for `app_state`, small facts the processes share."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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


@asynccontextmanager
async def advisory_lock(conn: asyncpg.Connection, name: str) -> AsyncIterator[None]:
    """A session-level advisory lock on `name`, held while the block runs: one process at a time."""
    await conn.execute("SELECT pg_advisory_lock(hashtext($1))", name)
    try:
        yield
    finally:
        await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", name)
