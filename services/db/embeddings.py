"""Repository functions for `movie_embeddings`: vectors of any model and size, one HNSW index per
embedding space (a partial expression index: HNSW needs a fixed size), and nearest-neighbour
queries that filter inside the index scan.

The space's model and size are written into the SQL as literals (the model checked against a
strict pattern first): a partial index is only used when the planner can see that the query's
WHERE implies the index's, which a bind parameter never shows it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np

from services.config import EMBEDDING_MODEL_PATTERN
from services.embeddings.client import Space

MODEL_PATTERN = re.compile(EMBEDDING_MODEL_PATTERN)
INDEX_LOCK_KEY = 0x4D415253  # "MARS": one process builds an index at a time
ACTIVE_SPACE_KEY = "embeddings:active_space"


@dataclass(frozen=True, slots=True)
class EmbeddingRow:
    movie_id: int
    content_hash: str
    vector: np.ndarray
    release_year: int | None
    adult: bool


@dataclass(frozen=True, slots=True)
class Neighbour:
    movie_id: int
    similarity: float  # cosine similarity, 1 is the same direction


@dataclass(frozen=True, slots=True)
class Filters:
    """What a search leaves out or keeps to; all of it is applied inside the index scan."""

    exclude: tuple[int, ...] = ()
    year_from: int | None = None
    year_to: int | None = None
    only: tuple[int, ...] | None = None  # a subset (e.g. films on a provider); None: all


def checked(space: Space) -> Space:
    if not MODEL_PATTERN.match(space.model) or not 1 <= space.dimensions <= 4000:
        raise ValueError(f"unusable embedding space {space.model!r} x {space.dimensions}")
    return space


def vector_type(space: Space) -> str:
    """The type the space's vectors are indexed and compared as: halfvec (16-bit floats). The
    benchmark found it costs no recall against full precision, for half the index and faster
    searches (bench/README.md); it also indexes up to 4000 dimensions (vector: 2000). The rows
    keep full precision."""
    return f"halfvec({space.dimensions})"


def index_name(space: Space) -> str:
    digest = hashlib.sha256(str(space).encode()).hexdigest()[:12]
    return f"movie_embeddings_hnsw_{digest}"


def _in_space(space: Space) -> str:
    checked(space)
    return f"model = '{space.model}' AND dimensions = {space.dimensions}"


async def ensure_index(conn: asyncpg.Connection, space: Space) -> bool:
    """Create the space's HNSW cosine index unless it exists (valid); True when built now.
    CONCURRENTLY: searches and inserts go on while it builds.

    One process builds; another that finds the lock taken does not wait for it (a session
    waiting inside a statement holds a snapshot, which CREATE INDEX CONCURRENTLY would wait on:
    a deadlock), it goes on without the index, which only makes searches slower until it is
    there. An index left invalid is an interrupted build (its builder would hold the lock), so
    the lock holder drops and rebuilds it."""
    name = index_name(space)
    cast = vector_type(space)
    if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", INDEX_LOCK_KEY):
        return False
    try:
        valid = await _index_valid(conn, name)
        if valid:
            return False
        if valid is not None:  # a build that was interrupted leaves an invalid index behind
            await conn.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        await conn.execute(
            f"CREATE INDEX CONCURRENTLY {name} ON movie_embeddings USING hnsw ((embedding::{cast}) halfvec_cosine_ops)"
            f" WHERE {_in_space(space)}",
            timeout=3600,
        )
        return True
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", INDEX_LOCK_KEY)


async def has_index(conn: asyncpg.Connection, space: Space) -> bool:
    """Whether the space's index exists and is valid (built)."""
    return bool(await _index_valid(conn, index_name(space)))


async def _index_valid(conn: asyncpg.Connection, name: str) -> bool | None:
    """None when there is no such index; else whether it is valid."""
    valid = await conn.fetchval(
        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = $1", name
    )
    return None if valid is None else bool(valid)


async def stored_hashes(conn: asyncpg.Connection, space: Space, movie_ids: Sequence[int]) -> dict[int, str]:
    rows = await conn.fetch(
        f"SELECT movie_id, content_hash FROM movie_embeddings WHERE {_in_space(space)} AND movie_id = ANY($1::int[])",
        list(movie_ids),
    )
    return {r["movie_id"]: r["content_hash"] for r in rows}


async def upsert(conn: asyncpg.Connection, space: Space, rows: Sequence[EmbeddingRow]) -> None:
    checked(space)
    await conn.executemany(
        """
        INSERT INTO movie_embeddings (movie_id, model, dimensions, content_hash, embedding, release_year, adult)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (movie_id, model, dimensions) DO UPDATE SET
            content_hash = EXCLUDED.content_hash, embedding = EXCLUDED.embedding,
            release_year = EXCLUDED.release_year, adult = EXCLUDED.adult, created_at = now()
        """,
        [(r.movie_id, space.model, space.dimensions, r.content_hash, r.vector, r.release_year, r.adult) for r in rows],
    )


async def forget(conn: asyncpg.Connection, movie_ids: Sequence[int]) -> None:
    """Drop every vector of these films (adult, or gone from TMDB)."""
    await conn.execute("DELETE FROM movie_embeddings WHERE movie_id = ANY($1::int[])", list(movie_ids))


async def missing(conn: asyncpg.Connection, space: Space, limit: int) -> list[int]:
    """Films of the catalogue (adult ones never) without a vector in `space`, most popular first."""
    return [
        r["id"]
        for r in await conn.fetch(
            f"""
            SELECT m.id FROM movies m
            WHERE NOT m.adult AND NOT EXISTS (
                SELECT 1 FROM movie_embeddings e WHERE e.movie_id = m.id AND e.{_in_space(space)})
            ORDER BY m.popularity DESC, m.id LIMIT $1
            """,
            limit,
        )
    ]


async def left_behind(conn: asyncpg.Connection, old: Space, new: Space) -> int:
    """Films with a vector in `old` but none in `new` (0: `new` can take over)."""
    return int(
        await conn.fetchval(
            f"""
            SELECT count(*) FROM movie_embeddings o
            WHERE o.{_in_space(old)} AND NOT EXISTS (
                SELECT 1 FROM movie_embeddings n WHERE n.movie_id = o.movie_id AND n.{_in_space(new)})
            """
        )
    )


async def count(conn: asyncpg.Connection, space: Space) -> int:
    return int(await conn.fetchval(f"SELECT count(*) FROM movie_embeddings WHERE {_in_space(space)}"))


async def vectors_of(conn: asyncpg.Connection, space: Space, movie_ids: Sequence[int]) -> dict[int, np.ndarray]:
    rows = await conn.fetch(
        f"SELECT movie_id, embedding FROM movie_embeddings WHERE {_in_space(space)} AND movie_id = ANY($1::int[])",
        list(movie_ids),
    )
    return {r["movie_id"]: r["embedding"].to_numpy() for r in rows}


async def nearest(
    conn: asyncpg.Connection, space: Space, query: np.ndarray, filters: Filters, limit: int
) -> list[Neighbour]:
    """The `limit` films nearest `query` by cosine distance that pass `filters`.

    The filters sit in the index scan's WHERE, and the session's `hnsw.iterative_scan`
    (relaxed_order, see services/db/pool.py) makes the scan go on until `limit` rows passed
    them, so a filter that drops most neighbours still returns a full page. Relaxed order may
    return rows slightly out of order: the outer query sorts them again.
    """
    cast = vector_type(space)
    rows = await conn.fetch(
        f"""
        WITH nearest AS MATERIALIZED (
            SELECT movie_id, (embedding::{cast} <=> $1::{cast}) AS distance
            FROM movie_embeddings
            WHERE {_in_space(space)} AND NOT adult
              AND movie_id <> ALL($2::int[])
              AND ($3::int IS NULL OR release_year >= $3)
              AND ($4::int IS NULL OR release_year <= $4)
              AND ($5::int[] IS NULL OR movie_id = ANY($5::int[]))
            ORDER BY embedding::{cast} <=> $1::{cast}
            LIMIT $6
        )
        SELECT movie_id, distance FROM nearest ORDER BY distance, movie_id
        """,
        query,
        list(filters.exclude),
        filters.year_from,
        filters.year_to,
        None if filters.only is None else list(filters.only),
        limit,
    )
    return [Neighbour(r["movie_id"], 1.0 - float(r["distance"])) for r in rows]
