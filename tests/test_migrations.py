"""The migrations runner on a real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.db.migrate import apply_migrations, load_migrations
from services.db.pool import open_database
from tests.conftest import with_database

TABLES = {"users", "search_history", "watch_history", "movies", "movie_embeddings", "stripe_events", "app_state"}


@pytest.fixture
async def empty_database(pg_admin_dsn: str) -> AsyncIterator[str]:
    name = f"m_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_admin_dsn)
    await conn.execute(f"CREATE DATABASE {name}")
    try:
        yield with_database(pg_admin_dsn, name)
    finally:
        await conn.execute(f"DROP DATABASE {name} WITH (FORCE)")
        await conn.close()


async def test_migrations_apply_once_even_from_two_processes_at_once(empty_database: str) -> None:
    versions = [m.version for m in load_migrations()]
    assert versions[0] == "0001_init"
    async with open_database(empty_database) as first, open_database(empty_database) as second:
        results = await asyncio.gather(apply_migrations(first), apply_migrations(second))
        assert sorted(results, key=len) == [[], versions]
        assert await apply_migrations(first) == []
        async with first.connection() as conn:
            tables = {
                r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname='public'")
            }
            recorded = [r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")]
            embedding_type = await conn.fetchval(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute"
                " WHERE attrelid = 'movie_embeddings'::regclass AND attname = 'embedding'"
            )
    assert tables >= TABLES
    assert recorded == versions
    # Any size fits (each space gets its own HNSW index: tests/test_embeddings_pipeline.py).
    assert embedding_type == "vector"


async def test_database_unreachable_is_one_clear_error() -> None:
    from services.errors import DatabaseUnavailable

    with pytest.raises(DatabaseUnavailable, match="connection refused"):
        async with open_database("postgresql://postgres@127.0.0.1:1/none"):
            pass
