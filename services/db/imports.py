"""Repository functions for `imports` and `import_rows`: an import staged, matched in batches
(each committed, so a stopped worker resumes where it was), then applied in one transaction."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from services.imports.files import Entry


@dataclass(frozen=True, slots=True)
class ImportRecord:
    id: int
    discord_id: int
    source: str
    filename: str | None
    status: str
    staged: bool
    skipped: dict[str, int]
    summary: dict[str, Any] | None
    error: str | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Pending:
    """A film of the import not matched yet."""

    key: str
    name: str
    year: int | None
    tmdb_id: int | None  # known already (Trakt)


def _record(row: asyncpg.Record) -> ImportRecord:
    summary = json.loads(row["summary"]) if row["summary"] else None
    return ImportRecord(
        row["id"],
        row["discord_id"],
        row["source"],
        row["filename"],
        row["status"],
        row["staged"],
        json.loads(row["skipped"]),
        summary,
        row["error"],
        row["created_at"],
    )


async def create(
    conn: asyncpg.Connection,
    discord_id: int,
    source: str,
    filename: str | None,
    skipped: dict[str, int],
    *,
    staged: bool = True,
) -> int:
    """A queued import (asyncpg.UniqueViolationError when the user has one queued or running)."""
    return int(
        await conn.fetchval(
            """
            INSERT INTO imports (discord_id, source, filename, skipped, staged) VALUES ($1, $2, $3, $4, $5)
            RETURNING id
            """,
            discord_id,
            source,
            filename,
            json.dumps(skipped),
            staged,
        )
    )


async def mark_staged(conn: asyncpg.Connection, import_id: int, skipped: dict[str, int]) -> None:
    await conn.execute("UPDATE imports SET staged = true, skipped = $2 WHERE id = $1", import_id, json.dumps(skipped))


async def record_refused(
    conn: asyncpg.Connection, discord_id: int, source: str, filename: str | None, error: str
) -> None:
    await conn.execute(
        """
        INSERT INTO imports (discord_id, source, filename, status, error, finished_at)
        VALUES ($1, $2, $3, 'refused', $4, now())
        """,
        discord_id,
        source,
        filename,
        error,
    )


async def stage(conn: asyncpg.Connection, import_id: int, entries: Sequence[Entry]) -> None:
    await conn.copy_records_to_table(
        "import_rows",
        records=[
            # A known TMDB id (Trakt) is still looked up once: the film must be in the catalogue.
            (import_id, n, e.list, e.name, e.year, e.key, e.rating, e.verdict, e.at, False, e.tmdb_id)
            for n, e in enumerate(entries)
        ],
        columns=[
            "import_id",
            "row_no",
            "list",
            "name",
            "year",
            "film_key",
            "rating",
            "verdict",
            "at",
            "matched",
            "tmdb_id",
        ],
    )


async def get(conn: asyncpg.Connection, import_id: int) -> ImportRecord | None:
    row = await conn.fetchrow("SELECT * FROM imports WHERE id = $1", import_id)
    return _record(row) if row else None


async def claim(conn: asyncpg.Connection, import_id: int, stale_seconds: float) -> ImportRecord | None:
    """Take an import to run: a queued one, or a running one whose worker went quiet."""
    row = await conn.fetchrow(
        """
        UPDATE imports SET status = 'running', heartbeat_at = now()
        WHERE id = $1 AND (status = 'queued'
            OR (status = 'running' AND heartbeat_at < now() - make_interval(secs => $2)))
        RETURNING *
        """,
        import_id,
        stale_seconds,
    )
    return _record(row) if row else None


async def release(conn: asyncpg.Connection, import_id: int) -> None:
    """A run that stopped: queued again, for the next run to take up at once."""
    await conn.execute("UPDATE imports SET status = 'queued' WHERE id = $1 AND status = 'running'", import_id)


async def heartbeat(conn: asyncpg.Connection, import_id: int) -> None:
    await conn.execute("UPDATE imports SET heartbeat_at = now() WHERE id = $1", import_id)


async def stalled(conn: asyncpg.Connection, stale_seconds: float) -> list[int]:
    """Imports whose job was lost: queued a while ago and never started, or whose worker went quiet."""
    rows = await conn.fetch(
        """
        SELECT id FROM imports WHERE status IN ('queued', 'running')
          AND coalesce(heartbeat_at, created_at) < now() - make_interval(secs => $1)
        """,
        stale_seconds,
    )
    return [r["id"] for r in rows]


async def pending(conn: asyncpg.Connection, import_id: int) -> list[Pending]:
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (film_key) film_key, name, year, tmdb_id FROM import_rows
        WHERE import_id = $1 AND NOT matched ORDER BY film_key, row_no
        """,
        import_id,
    )
    return [Pending(r["film_key"], r["name"], r["year"], r["tmdb_id"]) for r in rows]


async def film_counts(conn: asyncpg.Connection, import_id: int) -> tuple[int, int]:
    """(films matched or found unmatched so far, distinct films in the import)."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE done) AS done, count(*) AS total FROM (
            SELECT bool_and(matched) AS done FROM import_rows WHERE import_id = $1 GROUP BY film_key) f
        """,
        import_id,
    )
    return int(row["done"]), int(row["total"])


async def record_matches(conn: asyncpg.Connection, import_id: int, matches: Sequence[tuple[str, int | None]]) -> None:
    await conn.execute(
        """
        UPDATE import_rows r SET matched = true, tmdb_id = m.tmdb_id
        FROM unnest($2::text[], $3::int[]) AS m (film_key, tmdb_id)
        WHERE r.import_id = $1 AND r.film_key = m.film_key
        """,
        import_id,
        [k for k, _ in matches],
        [t for _, t in matches],
    )


async def not_matched(conn: asyncpg.Connection, import_id: int) -> list[tuple[str, int | None]]:
    rows = await conn.fetch(
        """
        SELECT DISTINCT ON (film_key) name, year FROM import_rows
        WHERE import_id = $1 AND matched AND tmdb_id IS NULL ORDER BY film_key, row_no
        """,
        import_id,
    )
    return sorted(((r["name"], r["year"]) for r in rows), key=lambda f: (f[0].casefold(), f[1] or 0))


async def apply(conn: asyncpg.Connection, import_id: int, discord_id: int) -> dict[str, dict[str, int]]:
    """Write the matched rows into watch history, feedback and the watchlist; per list, how many
    films were added and how many were there already. Running it twice changes nothing: watched
    dates keep the earliest, a rating is replaced only by a newer one."""
    watched = await conn.fetch(
        """
        WITH w AS (
            SELECT tmdb_id, min(coalesce(at, now())) AS at FROM import_rows
            WHERE import_id = $1 AND list = 'watched' AND tmdb_id IS NOT NULL GROUP BY tmdb_id)
        INSERT INTO watch_history (discord_id, movie_id, watched_at) SELECT $2, tmdb_id, at FROM w
        ON CONFLICT (discord_id, movie_id) DO UPDATE SET watched_at = EXCLUDED.watched_at
            WHERE EXCLUDED.watched_at < watch_history.watched_at
        RETURNING (xmax = 0) AS added
        """,
        import_id,
        discord_id,
    )
    rated = await conn.fetch(
        """
        WITH r AS (
            SELECT DISTINCT ON (tmdb_id) tmdb_id, rating, verdict, coalesce(at, now()) AS at FROM import_rows
            WHERE import_id = $1 AND list = 'rating' AND tmdb_id IS NOT NULL
            ORDER BY tmdb_id, at DESC NULLS LAST, row_no DESC)
        INSERT INTO feedback (discord_id, media_type, tmdb_id, verdict, rating, updated_at)
        SELECT $2, 'movie', tmdb_id, verdict, rating, at FROM r
        ON CONFLICT (discord_id, media_type, tmdb_id) DO UPDATE
            SET verdict = EXCLUDED.verdict, rating = EXCLUDED.rating, updated_at = EXCLUDED.updated_at
            WHERE EXCLUDED.updated_at > feedback.updated_at
              AND (feedback.verdict, feedback.rating) IS DISTINCT FROM (EXCLUDED.verdict, EXCLUDED.rating)
        RETURNING (xmax = 0) AS added
        """,
        import_id,
        discord_id,
    )
    listed = await conn.fetch(
        """
        WITH l AS (
            SELECT tmdb_id, min(coalesce(at, now())) AS at FROM import_rows
            WHERE import_id = $1 AND list = 'watchlist' AND tmdb_id IS NOT NULL GROUP BY tmdb_id)
        INSERT INTO watchlist (discord_id, media_type, tmdb_id, added_at) SELECT $2, 'movie', tmdb_id, at FROM l
        ON CONFLICT DO NOTHING RETURNING true AS added
        """,
        import_id,
        discord_id,
    )
    totals = await conn.fetchrow(
        """
        SELECT count(DISTINCT tmdb_id) FILTER (WHERE list = 'watched') AS watched,
               count(DISTINCT tmdb_id) FILTER (WHERE list = 'rating') AS rating,
               count(DISTINCT tmdb_id) FILTER (WHERE list = 'watchlist') AS watchlist
        FROM import_rows WHERE import_id = $1 AND tmdb_id IS NOT NULL
        """,
        import_id,
    )
    out = {}
    for name, changed in (("watched", watched), ("rating", rated), ("watchlist", listed)):
        added = sum(1 for r in changed if r["added"])
        out[name] = {"added": added, "updated": len(changed) - added, "already": totals[name] - len(changed)}
    return out


async def finish(conn: asyncpg.Connection, import_id: int, summary: dict[str, Any]) -> None:
    await conn.execute(
        "UPDATE imports SET status = 'done', summary = $2, finished_at = now() WHERE id = $1",
        import_id,
        json.dumps(summary),
    )
    await conn.execute("DELETE FROM import_rows WHERE import_id = $1 AND tmdb_id IS NOT NULL", import_id)


async def fail(conn: asyncpg.Connection, import_id: int, error: str) -> None:
    await conn.execute(
        "UPDATE imports SET status = 'failed', error = $2, finished_at = now() WHERE id = $1", import_id, error
    )


async def running(conn: asyncpg.Connection, discord_id: int) -> ImportRecord | None:
    row = await conn.fetchrow(
        "SELECT * FROM imports WHERE discord_id = $1 AND status IN ('queued', 'running')", discord_id
    )
    return _record(row) if row else None
