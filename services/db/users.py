"""Repository functions for `users`."""

from __future__ import annotations

import asyncpg


async def ensure_user(conn: asyncpg.Connection, discord_id: int) -> None:
    await conn.execute("INSERT INTO users (discord_id) VALUES ($1) ON CONFLICT (discord_id) DO NOTHING", discord_id)


async def user_exists(conn: asyncpg.Connection, discord_id: int) -> bool:
    return bool(await conn.fetchval("SELECT 1 FROM users WHERE discord_id = $1", discord_id))
