"""Repository functions for `users`."""

from __future__ import annotations

import asyncpg


async def ensure_user(conn: asyncpg.Connection, discord_id: int) -> None:
    """Called inside the transaction that first writes a row the user owns, never before the ack."""
    await conn.execute("INSERT INTO users (discord_id) VALUES ($1) ON CONFLICT (discord_id) DO NOTHING", discord_id)
