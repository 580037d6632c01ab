"""Vector search and the embedding pipeline (bench/run.py prints them with the rest; alone:
`python -m bench.vectors [--sizes 10000,100000]`).

- Search: synthetic vectors (1536 dimensions, clustered in a low-dimensional latent space, as
  text embeddings are) in an embedded PostgreSQL with pgvector, loaded into `movie_embeddings`
  and indexed as Marquee indexes them (services/db/embeddings.py). 200 queries drawn from the
  same distribution, through the app's own query (`nearest`, the pool's ef_search and iterative
  scan): latency p50/p99 and recall@10 against an exact search (numpy, every vector), at 10k
  and 100k films; the index's build time and size; ef_search 40/100/200; the same with a
  full-precision index instead of the app's halfvec one.
- Filtered at 100k: excluding 200 "watched" films taken from each query's 300 nearest (the hard
  case: what someone who watched films like these has seen), and restricted to a 10% subset
  (release years 2010-2016 of 1950-2024, uncorrelated with the vectors: the worst case for an
  index): rows returned and recall@10 against the exact filtered answer.
- The old way (the web app's): vectors as JSON in a table, loaded and compared in Python (with
  numpy) for each query, at 10k and 100k; the speed-up of pgvector over it.
- Pipeline: 1000 new films through the real pipeline (fake TMDB, the official openai client
  against the fake embeddings endpoint, real PostgreSQL and Redis): embeddings API calls, and
  films embedded per second.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import asyncpg
import numpy as np
import numpy.typing as npt

from bench.common import PrintedRows, Rows, ms, p99
from services.db import embeddings as store
from services.db.migrate import apply_migrations
from services.db.pool import Database, open_database
from services.embedded import embedded_postgres
from services.embeddings.client import Space, normalised
from services.runtime import open_services
from tests.conftest import TEST_LLM, TEST_RETRY, make_settings
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB

Matrix = npt.NDArray[np.float32]
SPACE = Space("bench-model", 1536)
QUERIES = 200
K = 10
LATENT = 48  # the intrinsic dimension of the synthetic embeddings
YEARS = (1950, 2024)
SUBSET = (2010, 2016)  # 7 of 75 years: about 10% of the films


def synthetic(n: int, seed: int) -> Matrix:
    """Unit vectors in 1536 dimensions that lie near a 48-dimensional subspace, in clusters."""
    rng = np.random.default_rng(seed)
    basis = np.random.default_rng(0).standard_normal((LATENT, SPACE.dimensions)).astype(np.float32)
    centres = np.random.default_rng(1).standard_normal((max(16, n // 200), LATENT)).astype(np.float32)
    latent = centres[rng.integers(len(centres), size=n)] + 0.7 * rng.standard_normal((n, LATENT)).astype(np.float32)
    noise = 0.05 * rng.standard_normal((n, SPACE.dimensions)).astype(np.float32)
    return normalised((latent @ basis) / np.sqrt(LATENT) + noise)


def exact(
    vectors: Matrix, ids: npt.NDArray[np.int64], query: Matrix, allowed: npt.NDArray[np.bool_] | None
) -> list[int]:
    scores = vectors @ query
    if allowed is not None:
        scores = np.where(allowed, scores, -np.inf)
    top = np.argpartition(-scores, K)[:K]
    return [int(ids[i]) for i in top[np.argsort(-scores[top])]]


def recall(found: Sequence[int], truth: Sequence[int]) -> float:
    return len(set(found) & set(truth)) / len(truth)


async def load(db: Database, vectors: Matrix, years: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    ids = np.arange(1, len(vectors) + 1, dtype=np.int64)
    async with db.connection() as conn:
        await drop_indexes(conn)  # a bulk load, then a bulk build (as after a restore)
        await conn.execute("TRUNCATE movies CASCADE")
        await conn.copy_records_to_table(
            "movies", records=[(int(i), f"Film {i}") for i in ids], columns=["id", "title"], timeout=600
        )
        await conn.copy_records_to_table(
            "movie_embeddings",
            records=[
                (int(i), SPACE.model, SPACE.dimensions, "h", v, int(y), False)
                for i, v, y in zip(ids, vectors, years, strict=True)
            ],
            columns=["movie_id", "model", "dimensions", "content_hash", "embedding", "release_year", "adult"],
            timeout=1200,
        )
        await conn.execute("VACUUM ANALYZE movie_embeddings", timeout=600)
    return ids


async def drop_indexes(conn: asyncpg.Connection) -> None:
    for old in await conn.fetch("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'movie_embeddings_hnsw%'"):
        await conn.execute(f"DROP INDEX {old['indexname']}")


async def build_index(db: Database, full: bool = False) -> tuple[float, int]:
    """Build the space's index in bulk (as after a restore): the app's (halfvec, through
    `ensure_index`), or one on full-precision vectors to compare. Seconds and bytes."""
    async with db.connection() as conn:
        await conn.execute("SET maintenance_work_mem = '3GB'")
        await conn.execute("SET max_parallel_maintenance_workers = 1")  # two cores: one helper
        await drop_indexes(conn)
        began = time.perf_counter()
        if full:
            name = "movie_embeddings_hnsw_full"
            await conn.execute(
                f"CREATE INDEX {name} ON movie_embeddings USING hnsw "
                f"((embedding::vector({SPACE.dimensions})) vector_cosine_ops) "
                f"WHERE model = '{SPACE.model}' AND dimensions = {SPACE.dimensions}",
                timeout=7200,
            )
        else:
            name = store.index_name(SPACE)
            await store.ensure_index(conn, SPACE)
        seconds = time.perf_counter() - began
        size = int(await conn.fetchval("SELECT pg_relation_size($1::regclass)", name))
    return seconds, size


async def nearest_full(conn: asyncpg.Connection, query: Matrix, limit: int) -> list[int]:
    """`store.nearest`'s query on full-precision vectors (what not adopting halfvec would be)."""
    cast = f"vector({SPACE.dimensions})"
    rows = await conn.fetch(
        f"""
        WITH nearest AS MATERIALIZED (
            SELECT movie_id, (embedding::{cast} <=> $1::{cast}) AS distance FROM movie_embeddings
            WHERE model = '{SPACE.model}' AND dimensions = {SPACE.dimensions} AND NOT adult
            ORDER BY embedding::{cast} <=> $1::{cast} LIMIT $2
        ) SELECT movie_id FROM nearest ORDER BY distance
        """,
        query,
        limit,
    )
    return [r["movie_id"] for r in rows]


async def timed_queries(
    db: Database, queries: Matrix, filters: list[store.Filters], *, ef: int | None = None, full: bool = False
) -> tuple[list[float], list[list[int]]]:
    latencies: list[float] = []
    found: list[list[int]] = []
    async with db.connection() as conn:
        if ef is not None:
            await conn.execute(f"SET hnsw.ef_search = {ef}")
        for query, where in zip(queries, filters, strict=True):
            began = time.perf_counter()
            if full:
                ids = await nearest_full(conn, query, K)
            else:
                ids = [r.movie_id for r in await store.nearest(conn, SPACE, query, where, K)]
            latencies.append(time.perf_counter() - began)
            found.append(ids)
    return latencies, found


def summary(latencies: list[float], found: list[list[int]], truth: list[list[int]]) -> str:
    mean_recall = statistics.mean(recall(f, t) for f, t in zip(found, truth, strict=True))
    rows = min(len(f) for f in found)
    return f"{ms(statistics.median(latencies))} / {ms(p99(latencies))}; recall@10 {mean_recall:.3f}; rows ≥ {rows}"


async def json_baseline(
    db: Database, vectors: Matrix, queries: Matrix, ids: npt.NDArray[np.int64]
) -> tuple[float, float]:
    """The old way, per query: every vector read from a JSON column, parsed, compared. Seconds a
    query, and its recall (it is exact, but float text loses a little)."""
    async with db.connection() as conn:
        await conn.execute("DROP TABLE IF EXISTS bench_json_embeddings")
        await conn.execute("CREATE TABLE bench_json_embeddings (movie_id INTEGER PRIMARY KEY, embedding TEXT)")
        await conn.copy_records_to_table(
            "bench_json_embeddings",
            records=[(int(i), json.dumps([round(float(x), 6) for x in v])) for i, v in zip(ids, vectors, strict=True)],
            timeout=1800,
        )
    times, recalls = [], []
    for query in queries:
        began = time.perf_counter()
        async with db.connection() as conn:
            rows = await conn.fetch("SELECT movie_id, embedding FROM bench_json_embeddings", timeout=600)
        matrix = np.array([json.loads(r["embedding"]) for r in rows], dtype=np.float32)
        scores = matrix @ query / np.linalg.norm(matrix, axis=1)
        top = [rows[i]["movie_id"] for i in np.argsort(-scores)[:K]]
        times.append(time.perf_counter() - began)
        recalls.append(recall(top, exact(vectors, ids, query, None)))
    async with db.connection() as conn:
        await conn.execute("DROP TABLE bench_json_embeddings")
    return statistics.median(times), statistics.mean(recalls)


async def search_benchmarks(rows: Rows, sizes: Sequence[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-vectors-") as tmp:
        async with embedded_postgres(Path(tmp)) as dsn, open_database(dsn, max_size=2) as db:
            await apply_migrations(db)
            for n in sizes:
                await search_at(rows, db, n)


async def search_at(rows: Rows, db: Database, n: int) -> None:
    label = f"{n // 1000}k × {SPACE.dimensions}"
    vectors = synthetic(n, seed=n)
    years = np.random.default_rng(2).integers(YEARS[0], YEARS[1] + 1, size=n)
    queries = synthetic(QUERIES, seed=n + 1)
    began = time.perf_counter()
    ids = await load(db, vectors, years)
    loaded = time.perf_counter() - began
    truth = [exact(vectors, ids, q, None) for q in queries]
    plain = [store.Filters()] * QUERIES

    seconds, size = await build_index(db)
    rows.append((f"{label}: load (COPY) / HNSW index build (halfvec, m 16, ef_construction 64) / index size",
                 f"{loaded:.1f} s / {seconds:.1f} s / {size / 2**20:.0f} MiB"))  # fmt: skip
    await timed_queries(db, queries[:20], plain[:20])  # warm the cache
    latencies, found = await timed_queries(db, queries, plain)
    rows.append(
        (f"{label}: search (the app's: halfvec, ef_search 100): p50 / p99; recall", summary(latencies, found, truth))
    )
    pgvector_p50 = statistics.median(latencies)
    for ef in (40, 200):
        latencies, found = await timed_queries(db, queries, plain, ef=ef)
        rows.append((f"{label}: search, ef_search {ef}: p50 / p99; recall", summary(latencies, found, truth)))

    if n >= 100_000:
        await filtered(rows, db, label, vectors, ids, years, queries)

    baseline_queries = 5 if n <= 10_000 else 2
    old, old_recall = await json_baseline(db, vectors, queries[:baseline_queries], ids)
    rows.append((f"{label}: the old way (JSON in a table, compared in Python), {baseline_queries} queries: p50; "
                 "speed-up of pgvector",
                 f"{old * 1000:,.0f} ms (recall {old_recall:.3f}); {old / pgvector_p50:,.0f}×"))  # fmt: skip

    seconds, size = await build_index(db, full=True)
    await timed_queries(db, queries[:20], plain[:20], full=True)
    latencies, found = await timed_queries(db, queries, plain, full=True)
    rows.append((f"{label}, full-precision vector index instead: build / size; search p50 / p99; recall",
                 f"{seconds:.1f} s / {size / 2**20:.0f} MiB; {summary(latencies, found, truth)}"))  # fmt: skip
    await build_index(db)  # back to what the app uses


async def filtered(
    rows: Rows,
    db: Database,
    label: str,
    vectors: Matrix,
    ids: npt.NDArray[np.int64],
    years: npt.NDArray[np.int64],
    queries: Matrix,
) -> None:
    rng = np.random.default_rng(3)
    watched_filters, watched_truth = [], []
    for query in queries:
        near = np.argsort(-(vectors @ query))[:300]
        watched = ids[rng.choice(near, size=200, replace=False)]
        allowed = ~np.isin(ids, watched)
        watched_filters.append(store.Filters(exclude=tuple(int(i) for i in watched)))
        watched_truth.append(exact(vectors, ids, query, allowed))
    latencies, found = await timed_queries(db, queries, watched_filters)
    rows.append((f"{label}: excluding 200 watched films (of each query's 300 nearest): p50 / p99; recall; rows",
                 summary(latencies, found, watched_truth)))  # fmt: skip
    in_subset = (years >= SUBSET[0]) & (years <= SUBSET[1])
    subset = store.Filters(year_from=SUBSET[0], year_to=SUBSET[1])
    truth = [exact(vectors, ids, q, in_subset) for q in queries]
    latencies, found = await timed_queries(db, queries, [subset] * len(queries))
    share = in_subset.mean() * 100
    rows.append((f"{label}: restricted to a {share:.0f}% subset (release years {SUBSET[0]}-{SUBSET[1]}): "
                 "p50 / p99; recall; rows", summary(latencies, found, truth)))  # fmt: skip


async def pipeline_benchmark(rows: Rows, films: int = 1000) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-pipeline-") as tmp:
        async with FakeTMDB(film_count=films) as tmdb, FakeOpenAI(tmdb) as llm:
            settings = make_settings(
                tmdb_token=tmdb.token,
                tmdb_api_base=tmdb.base_url,
                openai_api_key=llm.api_key,
                openai_base_url=llm.base_url,
                marquee_data_dir=Path(tmp),
            )
            async with open_services(settings, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services:
                for page in range(1, films // 20 + 1):
                    await services.catalog.browse("popular", page)
                queued = await services.embeddings.queue.pending()
                began = time.perf_counter()
                report = await services.embeddings.run_pending()
                seconds = time.perf_counter() - began
                calls = len(llm.embeddings.answered())
                rows.append(
                    (
                        f"pipeline, {queued} new films (details from the fake TMDB, fake embeddings): "
                        "API calls per 1000 films; films embedded a second",
                        f"{calls * 1000 / max(1, report.embedded):.0f} ({calls} calls for {report.embedded} films); "
                        f"{report.embedded / seconds:,.0f} films/s",
                    )
                )


async def vector_benchmarks(rows: Rows, sizes: Sequence[int] = (10_000, 100_000)) -> None:
    await pipeline_benchmark(rows)
    await search_benchmarks(rows, sizes)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    args = parser.parse_args()
    print("| measure | result |\n|---|---|", flush=True)
    await vector_benchmarks(PrintedRows(), [int(s) for s in args.sizes.split(",")])


if __name__ == "__main__":
    asyncio.run(main())
