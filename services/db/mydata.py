"""Repository functions for /mydata: everything Marquee keeps about one user, counted, read
whole for the download, and deleted."""

from __future__ import annotations

import json
from typing import Any

import asyncpg

# Every table with rows about a user. Deleting the `users` row cascades to all of them; the delete
# checks that nothing is left (a table added later without its cascade).
USER_TABLES = (
    "search_history",
    "watch_history",
    "feedback",
    "watchlist",
    "user_settings",
    "taste_profiles",
    "foryou_shown",
    "notices",
    "imports",
    "import_rows",
    "trakt_links",
    "movie_nights",
    "night_votes",
)
# How each table names the user: its discord_id, or (rows of an import) through its import.
WHERE = dict.fromkeys(USER_TABLES, "discord_id = $1") | {
    "import_rows": "import_id IN (SELECT id FROM imports WHERE discord_id = $1)",
    "movie_nights": "host_id = $1",  # the nights they hosted (and the votes on them)
}


async def counts(conn: asyncpg.Connection, discord_id: int) -> dict[str, int]:
    """Rows per table, in one query."""
    columns = ", ".join(f"(SELECT count(*) FROM {t} WHERE {WHERE[t]}) AS {t}" for t in USER_TABLES)
    row = await conn.fetchrow(f"SELECT {columns}", discord_id)
    return {t: int(row[t]) for t in USER_TABLES}


async def user_row(conn: asyncpg.Connection, discord_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        """
        SELECT tier, subscription_status, current_period_end, cancel_at_period_end, created_at
        FROM users WHERE discord_id = $1
        """,
        discord_id,
    )
    return {k: _plain(v) for k, v in dict(row).items()} if row else None


async def table_rows(conn: asyncpg.Connection, table: str, discord_id: int) -> list[dict[str, Any]]:
    """A user's rows of one table, whole (Trakt's tokens excepted: secrets, never exported)."""
    assert table in USER_TABLES
    if table == "trakt_links":
        query = "SELECT created_at, synced_at, broken FROM trakt_links WHERE discord_id = $1"
    else:
        query = f"SELECT * FROM {table} WHERE {WHERE[table]} ORDER BY 1, 2"
    statement = await conn.prepare(query)
    # JSON columns (filters, payloads, summaries…) are read back as the values they hold; text
    # that merely looks like JSON (a search for "[rec]") stays text.
    json_columns = {a.name for a in statement.get_attributes() if a.type.name in ("json", "jsonb")}
    rows = await statement.fetch(discord_id)
    return [
        {k: json.loads(v) if k in json_columns and v is not None else _plain(v) for k, v in dict(r).items()}
        for r in rows
    ]


async def films_of(conn: asyncpg.Connection, table: str, discord_id: int) -> list[asyncpg.Record]:
    """A user's watched, rated or listed films with their names, for the Letterboxd-style CSVs."""
    column, when, extra = {
        "watch_history": ("movie_id", "watched_at", ""),
        "feedback": ("tmdb_id", "updated_at", ", t.rating, t.verdict"),
        "watchlist": ("tmdb_id", "added_at", ""),
    }[table]
    return await conn.fetch(
        f"""
        SELECT t.{when} AS at, m.id, m.title, extract(year FROM m.release_date)::int AS year{extra}
        FROM {table} t JOIN movies m ON m.id = t.{column}
        WHERE t.discord_id = $1 ORDER BY t.{when}, m.id
        """,
        discord_id,
    )


async def delete_user(conn: asyncpg.Connection, discord_id: int) -> None:
    """Every row about the user, in the caller's transaction (RuntimeError if any is left)."""
    await conn.execute("DELETE FROM users WHERE discord_id = $1", discord_id)
    left = {t: n for t, n in (await counts(conn, discord_id)).items() if n}
    if left:
        raise RuntimeError(f"rows left after deleting user: {left}")


def _plain(value: Any) -> Any:
    """A database value as JSON can hold it."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
