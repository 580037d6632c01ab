"""Repository functions for `feedback`: a user's 👍/👎 per film (the latest click counts)."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

LIKE, DISLIKE = 1, -1


@dataclass(frozen=True, slots=True)
class Verdict:
    movie_id: int
    title: str
    year: int | None
    verdict: int | None  # None: a middling rating, with no 👍/👎
    rating: int | None = None  # out of 10, when imported from a rating

    @property
    def label(self) -> str:
        named = f"{self.title} ({self.year})" if self.year else self.title
        return f"{named}, rated {self.rating}/10" if self.rating else named


async def set_verdict(conn: asyncpg.Connection, discord_id: int, movie_ids: list[int], verdict: int) -> None:
    await conn.execute(
        """
        INSERT INTO feedback (discord_id, media_type, tmdb_id, verdict)
        SELECT $1, 'movie', id, $3 FROM unnest($2::int[]) AS id
        ON CONFLICT (discord_id, media_type, tmdb_id) DO UPDATE SET verdict = EXCLUDED.verdict, updated_at = now()
        """,
        discord_id,
        movie_ids,
        verdict,
    )


async def disliked_ids(conn: asyncpg.Connection, discord_id: int) -> list[int]:
    rows = await conn.fetch(
        "SELECT tmdb_id FROM feedback WHERE discord_id = $1 AND media_type = 'movie' AND verdict < 0", discord_id
    )
    return [r["tmdb_id"] for r in rows]


async def verdicts(conn: asyncpg.Connection, discord_id: int, limit: int) -> list[Verdict]:
    """The user's latest 👍/👎 and ratings, newest first (for /foryou's taste profile)."""
    rows = await conn.fetch(
        """
        SELECT f.tmdb_id, m.title, extract(year FROM m.release_date)::int AS year, f.verdict, f.rating
        FROM feedback f JOIN movies m ON f.media_type = 'movie' AND m.id = f.tmdb_id
        WHERE f.discord_id = $1 ORDER BY f.updated_at DESC, f.tmdb_id LIMIT $2
        """,
        discord_id,
        limit,
    )
    return [Verdict(r["tmdb_id"], r["title"], r["year"], r["verdict"], r["rating"]) for r in rows]
