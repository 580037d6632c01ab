"""PostgreSQL advisory locks: one process at a time through a block, across machines."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg


@asynccontextmanager
async def advisory_lock(conn: asyncpg.Connection, key: int | str) -> AsyncIterator[None]:
    """A session-level advisory lock held while the block runs (a name is hashed to its key)."""
    sql, arg = ("hashtext($1)", key) if isinstance(key, str) else ("$1::bigint", key)
    await conn.execute(f"SELECT pg_advisory_lock({sql})", arg)
    try:
        yield
    finally:
        await conn.execute(f"SELECT pg_advisory_unlock({sql})", arg)
