"""Repository functions for `taste_profiles` and `foryou_shown`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class StoredProfile:
    fingerprint: str
    model: str
    profile: str  # JSON, validated by whoever reads it
    created_at: datetime


async def get_profile(conn: asyncpg.Connection, discord_id: int) -> StoredProfile | None:
    row = await conn.fetchrow(
        "SELECT fingerprint, model, profile::text AS profile, created_at FROM taste_profiles WHERE discord_id = $1",
        discord_id,
    )
    return None if row is None else StoredProfile(row["fingerprint"], row["model"], row["profile"], row["created_at"])


async def save_profile(conn: asyncpg.Connection, discord_id: int, fingerprint: str, model: str, profile: str) -> None:
    await conn.execute(
        """
        INSERT INTO taste_profiles (discord_id, fingerprint, model, profile) VALUES ($1, $2, $3, $4::jsonb)
        ON CONFLICT (discord_id) DO UPDATE SET
            fingerprint = EXCLUDED.fingerprint, model = EXCLUDED.model, profile = EXCLUDED.profile, created_at = now()
        """,
        discord_id,
        fingerprint,
        model,
        profile,
    )


async def recently_shown(conn: asyncpg.Connection, discord_id: int, days: int) -> list[tuple[int, str]]:
    """(id, title) of the films /foryou showed the user in the last `days` days, newest first."""
    rows = await conn.fetch(
        """
        SELECT s.movie_id, m.title FROM foryou_shown s JOIN movies m ON m.id = s.movie_id
        WHERE s.discord_id = $1 AND s.shown_at > now() - make_interval(days => $2)
        ORDER BY s.shown_at DESC
        """,
        discord_id,
        days,
    )
    return [(r["movie_id"], r["title"]) for r in rows]


async def mark_shown(conn: asyncpg.Connection, discord_id: int, movie_ids: Sequence[int]) -> None:
    await conn.execute(
        """
        INSERT INTO foryou_shown (discord_id, movie_id) SELECT $1, unnest($2::int[])
        ON CONFLICT (discord_id, movie_id) DO UPDATE SET shown_at = now()
        """,
        discord_id,
        list(movie_ids),
    )


async def forget(conn: asyncpg.Connection, discord_id: int) -> None:
    """Drop the stored taste profile: the next /foryou makes it again from the whole history."""
    await conn.execute("DELETE FROM taste_profiles WHERE discord_id = $1", discord_id)
