"""The one way settings rows are written: only the columns given, the others as they were."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg


async def upsert(
    conn: asyncpg.Connection,
    table: str,
    key: tuple[str, object],
    changes: dict[str, object],
    columns: Sequence[str],
    returning: str,
) -> asyncpg.Record:
    """Insert the row of `key` (column, value), or update just the `changes` on it (and its
    `updated_at`); returns `returning`. `columns` is the fixed set that may change, so no user
    input ever names a column. Locks the row: two changes at once both land."""
    names = [c for c in columns if c in changes]
    if not names or len(names) != len(changes):
        raise ValueError(f"{table} to save: {sorted(changes)}")
    placeholders = ", ".join(f"${n + 2}" for n in range(len(names)))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in names)
    row = await conn.fetchrow(
        f"INSERT INTO {table} ({key[0]}, {', '.join(names)}) VALUES ($1, {placeholders})"
        f" ON CONFLICT ({key[0]}) DO UPDATE SET {updates}, updated_at = now() RETURNING {returning}",
        key[1],
        *(changes[c] for c in names),
    )
    assert row is not None
    return row
