"""Applies migrations/NNNN_name.sql in order, each in a transaction, recorded in schema_migrations."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from services.db.locks import advisory_lock
from services.db.pool import Database

# Any constant works; it only has to be the same in every Marquee process.
ADVISORY_LOCK_KEY = 0x4D415251  # "MARQ"
NAME_PATTERN = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


def load_migrations() -> list[Migration]:
    found = []
    for entry in resources.files("migrations").iterdir():
        if NAME_PATTERN.match(entry.name):
            found.append(Migration(entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8")))
    return sorted(found, key=lambda m: m.version)


async def apply_migrations(db: Database) -> list[str]:
    """Apply what is missing; returns the versions applied now. Safe to run from two processes."""
    applied: list[str] = []
    async with db.connection() as conn, advisory_lock(conn, ADVISORY_LOCK_KEY):
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        done = {row["version"] for row in await conn.fetch("SELECT version FROM schema_migrations")}
        for migration in load_migrations():
            if migration.version in done:
                continue
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute("INSERT INTO schema_migrations (version) VALUES ($1)", migration.version)
            applied.append(migration.version)
    if applied:
        # Connections opened before a migration created a type (pgvector's) lack its codec.
        await db.pool.expire_connections()
    return applied
