"""Repository functions for `server_settings` (/server-settings)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

# What /server-settings can change: a fixed set, so no user input ever names a column.
COLUMNS = ("region", "language", "ai_commands", "answers")
SELECT = "SELECT guild_id, region, language, ai_commands, answers FROM server_settings"


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
    """Write the given settings (the others as they were) and return them all."""
    names = [c for c in COLUMNS if c in changes]
    if not names or len(names) != len(changes):
        raise ValueError(f"server settings to save: {sorted(changes)}")
    placeholders = ", ".join(f"${n + 3}" for n in range(len(names)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    row = await conn.fetchrow(
        f"INSERT INTO server_settings (guild_id, updated_by, {', '.join(names)}) VALUES ($1, $2, {placeholders})"
        f" ON CONFLICT (guild_id) DO UPDATE SET {updates}, updated_by = EXCLUDED.updated_by, updated_at = now()"
        " RETURNING guild_id, region, language, ai_commands, answers",
        guild_id,
        by,
        *(changes[c] for c in names),
    )
    assert row is not None
    return _server(row)
