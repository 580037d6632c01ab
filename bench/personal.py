"""Personal features at scale, on embedded PostgreSQL and Redis against the fake TMDB at 50 ms a
call: the availability-alerts sweep over 10,000 watchlist entries of 2,000 users in 3 regions
(3,000 distinct films): TMDB calls, wall time, peak rate; then `/browse only_my_services:` cold
and warm: TMDB calls and time to answer.

    python -m bench.personal
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

from bench.common import PrintedRows, Rows, embedded_settings, ms
from services.personal.settings import Preferences
from services.runtime import open_services
from tests.fakes.tmdb import FakeTMDB

USERS, PER_USER, FILMS = 2000, 5, 3000
REGIONS = ("US", "GB", "FR")
NETFLIX = 8


def peak_rate(stamps: list[float]) -> int:
    """The most calls that started within any one second."""
    return max(Counter(int(s) for s in stamps).values(), default=0)


async def personal_benchmarks(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-personal-") as tmp:
        async with AsyncExitStack() as stack:
            tmdb = await stack.enter_async_context(FakeTMDB(film_count=FILMS, latency=0.05))
            settings = await embedded_settings(stack, Path(tmp) / "data", tmdb)
            services = await stack.enter_async_context(open_services(settings))
            async with services.db.transaction() as conn:
                users = list(range(1, USERS + 1))
                await conn.execute("INSERT INTO users (discord_id) SELECT unnest($1::bigint[])", users)
                await conn.execute(
                    "INSERT INTO user_settings (discord_id, region, services, alerts)"
                    " SELECT u, ($2::text[])[1 + u % 3], ARRAY[$3::int], true FROM unnest($1::bigint[]) AS u",
                    users,
                    list(REGIONS),
                    NETFLIX,
                )
                await conn.execute(
                    "INSERT INTO watchlist (discord_id, tmdb_id) SELECT u, 1000 + (u * $2 + k) % $3"
                    " FROM unnest($1::bigint[]) AS u, generate_series(0, $2 - 1) AS k",
                    users,
                    PER_USER,
                    FILMS,
                )
            entries = USERS * PER_USER
            first = await services.alerts.sweep()  # records what is true (no alert for it)
            for movie_id in range(1000, 1000 + FILMS, 10):  # a tenth start streaming on Netflix everywhere
                tmdb.streaming[movie_id] = {r: [NETFLIX] for r in REGIONS}
            before = len(tmdb.calls)
            started = time.monotonic()
            second = await services.alerts.sweep()
            calls = tmdb.calls[before:]
            rows.append(
                (
                    f"alerts sweep: {entries:,} entries, {USERS:,} users, {len(REGIONS)} regions, TMDB at 50 ms",
                    f"{len(calls):,} TMDB calls for {second.films:,} distinct films;"
                    f" {time.monotonic() - started:.1f} s;"
                    f" peak {peak_rate([c.at for c in calls])} calls/s; {second.alerts:,} alerts queued"
                    f" (first sweep: {first.alerts} alerts, {first.seconds:.1f} s)",
                )
            )

            prefs = Preferences("US", "en-US", services=(1899,))
            await services.redis.flushdb()  # the sweep cached every film's details: start cold
            for run in ("cold", "warm"):
                before = len(tmdb.calls)
                started = time.perf_counter()
                page = await services.catalog.browse("popular", 1, prefs.locale)
                narrowed = await services.my_services.only(page.results, lambda f: f.id, prefs)
                elapsed = time.perf_counter() - started
                rows.append(
                    (
                        f"/browse only_my_services: {run}",
                        f"{len(tmdb.calls) - before} TMDB calls; {ms(elapsed)}; {len(narrowed.films)} of {narrowed.of}",
                    )
                )


if __name__ == "__main__":
    asyncio.run(personal_benchmarks(PrintedRows()))
