"""Repository functions for `notices`, the outbox of every DM the worker sends."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class Notice:
    id: int
    discord_id: int
    kind: str
    attempts: int = 0
    payload: dict[str, Any] = field(default_factory=dict)


async def add_notice(
    conn: asyncpg.Connection, discord_id: int, kind: str, dedupe_key: str, payload: dict[str, Any] | None = None
) -> int | None:
    """A DM owed to the user; None when the thing it announces (its `dedupe_key`) already was."""
    notice_id = await conn.fetchval(
        "INSERT INTO notices (discord_id, kind, dedupe_key, payload) VALUES ($1, $2, $3, $4::jsonb)"
        " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
        discord_id,
        kind,
        dedupe_key,
        json.dumps(payload or {}),
    )
    return None if notice_id is None else int(notice_id)


async def claim_notice(conn: asyncpg.Connection, notice_id: int) -> Notice | None:
    """The notice, locked for sending, unless it was sent (or given up on) already, or another
    worker holds it."""
    row = await conn.fetchrow(
        "SELECT id, discord_id, kind, attempts, payload FROM notices"
        " WHERE id = $1 AND sent_at IS NULL AND failure IS NULL FOR UPDATE SKIP LOCKED",
        notice_id,
    )
    if row is None:
        return None
    return Notice(row["id"], row["discord_id"], row["kind"], row["attempts"], json.loads(row["payload"]))


async def mark_sent(conn: asyncpg.Connection, notice_id: int) -> None:
    await conn.execute("UPDATE notices SET sent_at = now(), attempts = attempts + 1 WHERE id = $1", notice_id)


async def mark_failed(conn: asyncpg.Connection, notice_id: int, failure: str) -> None:
    """Given up on for good (closed DMs, its attempts spent): never sent, never queued again."""
    await conn.execute("UPDATE notices SET failure = $2, attempts = attempts + 1 WHERE id = $1", notice_id, failure)


async def defer(conn: asyncpg.Connection, notice_id: int, seconds: float, error: str) -> int:
    """One more attempt that did not go through; the next is due in `seconds`. Returns the
    attempts made so far."""
    attempts = await conn.fetchval(
        "UPDATE notices SET attempts = attempts + 1, last_error = $3,"
        " next_attempt_at = now() + make_interval(secs => $2) WHERE id = $1 RETURNING attempts",
        notice_id,
        seconds,
        error,
    )
    return int(attempts)


async def due_notices(conn: asyncpg.Connection, older_than_seconds: float) -> list[tuple[int, int]]:
    """(id, attempts) of the notices waiting to be sent whose job may have been lost: never tried
    and older than `older_than_seconds`, or past their next attempt by that much."""
    rows = await conn.fetch(
        "SELECT id, attempts FROM notices WHERE sent_at IS NULL AND failure IS NULL"
        " AND coalesce(next_attempt_at, created_at) < now() - make_interval(secs => $1) ORDER BY id LIMIT 500",
        older_than_seconds,
    )
    return [(r["id"], r["attempts"]) for r in rows]
