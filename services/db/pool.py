"""The asyncpg pool, wrapped so that an unreachable database becomes one domain error."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import asyncpg
from pgvector.asyncpg import register_vector

from services.errors import DatabaseUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# What asyncpg raises when the server is gone or refuses us (as opposed to a bad query).
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
)


class Database:
    """Hands out connections and transactions from one pool."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        try:
            async with self.pool.acquire(timeout=5) as conn:
                yield conn
        except CONNECTION_ERRORS as exc:
            raise DatabaseUnavailable(type(exc).__name__) from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[asyncpg.Connection]:
        async with self.connection() as conn, conn.transaction():
            yield conn

    @asynccontextmanager
    async def transaction_or_unavailable(self) -> AsyncIterator[asyncpg.Connection]:
        """A transaction whose every failure (the database away, a deadlock, a statement it
        refused) is a DatabaseUnavailable: for work that must be done whole or retried later."""
        try:
            async with self.transaction() as conn:
                yield conn
        except (asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            raise DatabaseUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def best_effort(self, what: str, write: Callable[[asyncpg.Connection], Awaitable[T]]) -> T | None:
        """Run `write` in a transaction the user's answer does not depend on: any database error
        (down, or a row the database refuses) is logged and swallowed. Returns what `write`
        returned, or None when nothing was stored."""
        try:
            async with self.transaction() as conn:
                return await write(conn)
        except (DatabaseUnavailable, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("could not store %s: %s: %s", what, type(exc).__name__, exc)
            return None

    async def ping(self) -> None:
        async with self.connection() as conn:
            await conn.fetchval("SELECT 1", timeout=2)


# Every session searches vectors the same way (services/db/embeddings.py): HNSW scans go on past
# `ef_search` candidates until the filters let a full page through, and look at 100 candidates
# (not pgvector's 40), which the benchmark showed recall needs (bench/README.md).
VECTOR_SETTINGS = {"hnsw.iterative_scan": "relaxed_order", "hnsw.ef_search": "100"}


async def _init_connection(conn: asyncpg.Connection) -> None:
    """pgvector's binary codecs (numpy in, numpy out), once the extension exists: the very first
    connection may predate the migration that creates it (the pool is then renewed)."""
    try:
        await register_vector(conn)
    except ValueError as exc:
        if "unknown type" not in str(exc):
            raise


@asynccontextmanager
async def open_database(dsn: str, *, min_size: int = 1, max_size: int = 20) -> AsyncIterator[Database]:
    """Create the pool once; a database that cannot be reached at start is a DatabaseUnavailable."""
    try:
        pool = await asyncpg.create_pool(
            dsn,
            min_size=min_size,
            max_size=max_size,
            timeout=10,
            command_timeout=30,
            init=_init_connection,
            server_settings=VECTOR_SETTINGS,
        )
    except CONNECTION_ERRORS as exc:
        raise DatabaseUnavailable(describe_connect_error(exc)) from exc
    except asyncpg.InvalidPasswordError as exc:
        raise DatabaseUnavailable("the password was refused") from exc
    except asyncpg.InvalidCatalogNameError as exc:
        raise DatabaseUnavailable("the database does not exist") from exc
    try:
        yield Database(pool)
    finally:
        await pool.close()


def describe_connect_error(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, asyncio.TimeoutError):
        return "timed out connecting"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return type(exc).__name__
