"""Repository functions for `server_settings` (/server-settings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from services.db.upsert import upsert

# What /server-settings can change: a fixed set, so no user input ever names a column.
COLUMNS = ("region", "language", "ai_commands", "answers")
RETURNING = "guild_id, region, language, ai_commands, answers"
SELECT = f"SELECT {RETURNING} FROM server_settings"


@dataclass(frozen=True, slots=True)
class StoredServer:
    guild_id: int
    region: str | None
    language: str | None
    ai_commands: bool
    answers: str  # public | ephemeral


def _server(row: asyncpg.Record) -> StoredServer:
    return StoredServer(row["guild_id"], row["region"], row["language"], row["ai_commands"], row["answers"])


async def of_guilds(conn: asyncpg.Connection, guild_ids: Sequence[int]) -> list[StoredServer]:
    return [_server(r) for r in await conn.fetch(f"{SELECT} WHERE guild_id = ANY($1::bigint[])", list(guild_ids))]


async def save(conn: asyncpg.Connection, guild_id: int, changes: dict[str, object], by: int) -> StoredServer:
    """Write the given settings (the others as they were), who changed them, and return them all."""
    row = await upsert(
        conn,
        "server_settings",
        ("guild_id", guild_id),
        {**changes, "updated_by": by},
        (*COLUMNS, "updated_by"),
        RETURNING,
    )
    return _server(row)
