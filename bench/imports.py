"""A Letterboxd import at scale, on embedded PostgreSQL and Redis: a 5,000-film export (watched,
2,000 of them rated, 500 on the watchlist) against the fake TMDB answering in 50 ms and limited
to TMDB's ~40 requests a second (429 beyond). Wall time against the floor that limit sets (5,000
searches take at least 125 s; target within 1.2x), TMDB calls (target: one per distinct name and
year; no 429), and the memory of the bot's part (reading and staging the file) and of the run.

    python -m bench.imports
"""

from __future__ import annotations

import asyncio
import tempfile
import time
import tracemalloc
from contextlib import AsyncExitStack
from pathlib import Path

import psutil

from bench.common import PrintedRows, Rows, embedded_settings
from bench.personal import peak_rate
from services.imports import letterboxd
from services.runtime import open_services
from tests.exports import lb_row, letterboxd_zip
from tests.fakes.tmdb import NOUNS, WORDS, FakeTMDB

FILMS, RATED, LISTED = 5000, 2000, 500
TMDB_LIMIT = 40  # requests a second


def mib(value: float) -> str:
    return f"{value / (1024 * 1024):.1f} MiB"


async def import_benchmarks(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-imports-") as tmp:
        async with AsyncExitStack() as stack:
            tmdb = await stack.enter_async_context(FakeTMDB(film_count=0, latency=0.05))
            titles = []
            for n in range(FILMS):
                title = f"The {WORDS[n % 10]} {NOUNS[(n // 10) % 10]} {n:04d}"
                titles.append((title, 1950 + n % 70))
                tmdb.add_film(title, 1950 + n % 70)
            watched = [lb_row("2020-01-01", t, y) for t, y in titles]
            ratings = [lb_row("2020-01-02", t, y, f"{1 + n % 5}") for n, (t, y) in enumerate(titles[:RATED])]
            listed = [lb_row("2020-01-03", t, y) for t, y in titles[-LISTED:]]
            export = letterboxd_zip(watched, ratings, (), listed)
            settings = await embedded_settings(stack, Path(tmp) / "data", tmdb)
            services = await stack.enter_async_context(open_services(settings))
            tmdb.rate_limit = TMDB_LIMIT
            process = psutil.Process()

            rss_before = process.memory_info().rss
            tracemalloc.start()
            started = time.perf_counter()
            parsed = letterboxd.parse("letterboxd-export.zip", export)
            import_id = await services.imports.start(1, "letterboxd", "letterboxd-export.zip", parsed)
            staged_in = time.perf_counter() - started
            _, stage_peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            rows.append(
                (
                    f"import: read and stage a {len(export) / 1024:.0f} KiB Letterboxd ZIP"
                    f" ({len(parsed.entries):,} rows, {FILMS:,} films) — the bot's part",
                    f"{staged_in * 1000:.0f} ms; Python allocations peak {mib(stage_peak)};"
                    f" RSS +{mib(process.memory_info().rss - rss_before)}",
                )
            )

            peak_rss = process.memory_info().rss
            before = len(tmdb.calls)
            started = time.monotonic()
            run = asyncio.create_task(services.imports.run(import_id))
            while not run.done():
                peak_rss = max(peak_rss, process.memory_info().rss)
                await asyncio.sleep(0.5)
            finished = run.result()
            elapsed = time.monotonic() - started
            calls = tmdb.calls[before:]
            searches = sum(1 for c in calls if c.path == "/search/movie")
            refused = sum(1 for c in calls if c.status == 429)
            floor = FILMS / TMDB_LIMIT
            assert finished is not None and finished.record.summary is not None
            lists = finished.record.summary["lists"]
            rows.append(
                (
                    f"import: match and apply {FILMS:,} films, TMDB at 50 ms and {TMDB_LIMIT} requests/s",
                    f"{elapsed:.1f} s = {elapsed / floor:.2f}x the {floor:.0f} s floor; {searches:,} searches"
                    f" ({len(calls):,} TMDB calls, {refused} answered 429); peak {peak_rate([c.at for c in calls])}"
                    f" calls/s; added {lists['watched']['added']:,} watched, {lists['rating']['added']:,} ratings,"
                    f" {lists['watchlist']['added']:,} watchlist; process RSS peak {mib(peak_rss)}",
                )
            )


if __name__ == "__main__":
    asyncio.run(import_benchmarks(PrintedRows()))
