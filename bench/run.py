"""Marquee's benchmarks; prints the figures as Markdown for bench/README.md.

    .venv/bin/python -m bench.run

- start-up of `marquee run` on the embedded defaults (first start with initdb, then a restart)
  and its idle memory;
- ack latency (dispatch to first callback) of 100 concurrent /browse and /movie through the
  Discord emulator, the bot in its own process;
- cold vs warm /browse in the service layer: TMDB calls for 100 concurrent cold requests of one
  list, and the warm service time;
- the AI benchmarks of bench/ai.py (/ask's latency split, LLM calls and tokens per command, and
  the single flight across two processes);
- the Stripe webhook burst of bench/billing.py;
- /movienight's LLM calls and the vote storm, bench/movienight.py;
- bot processes sharing shards: start-up of 16 shards in 4 processes and 1,000 commands over 200
  servers, bench/shards.py;
- vector search at 10k and 100k films and the embedding pipeline, bench/vectors.py.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.ai import ai_benchmarks
from bench.billing import webhook_burst
from bench.common import PrintedRows, ms, percentile
from bench.imports import import_benchmarks
from bench.movienight import movienight_benchmarks
from bench.personal import personal_benchmarks
from bench.shards import shard_benchmarks
from bench.vectors import vector_benchmarks
from services.runtime import open_services
from tests.conftest import TEST_RETRY, make_settings
from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.tmdb import FakeTMDB
from tests.process import MarqueeProcess, base_env, free_port, wait_health

CONCURRENCY = 100
DRAIN_COMMANDS = 20


async def start(emu: Any, env: dict[str, str], cwd: Path) -> tuple[MarqueeProcess, float, float]:
    emu._ready.clear()
    began = time.monotonic()
    proc = await MarqueeProcess(["run"], env, cwd).start()
    try:
        await emu.wait_ready(120)
    except TimeoutError:
        proc.kill()
        raise SystemExit(f"marquee did not connect; its output:\n{proc.output()}") from None
    ready = time.monotonic() - began
    await wait_health(int(env["WEB_PORT"]), time.monotonic() + 60)
    return proc, ready, time.monotonic() - began


def rss_mb(pid: int, data_dir: Path) -> tuple[float, float]:
    """RSS of the marquee process, and of it plus its embedded PostgreSQL and Redis."""
    own = psutil.Process(pid).memory_info().rss
    total = own + sum(c.memory_info().rss for c in psutil.Process(pid).children(recursive=True))
    postmaster = data_dir / "postgres" / "postmaster.pid"
    if postmaster.exists():
        pg = psutil.Process(int(postmaster.read_text().split()[0]))
        total += pg.memory_info().rss + sum(c.memory_info().rss for c in pg.children(recursive=True))
    redis_state = data_dir / "redis.json"  # the embedded Redis runs daemonised, not as a child
    if redis_state.exists():
        total += psutil.Process(json.loads(redis_state.read_text())["pid"]).memory_info().rss
    return own / 2**20, total / 2**20


async def ack_latencies(emu: Any, name: str, options: list[dict[str, Any]]) -> list[float]:
    records = await asyncio.gather(*(emu.invoke(name, o) for o in options))
    await asyncio.gather(*(r.wait_callback(10) for r in records))
    await asyncio.gather(*(r.wait_final(30) for r in records))
    return [r.initial_latency for r in records]


async def process_benchmarks(rows: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-") as tmp:
        cwd = Path(tmp)
        data_dir = cwd / "data"
        async with FakeTMDB() as tmdb, DiscordEmulator() as emu:
            env = base_env(
                TMDB_TOKEN=tmdb.token,
                TMDB_API_BASE=tmdb.base_url,
                MARQUEE_DATA_DIR=str(data_dir),
                WEB_PORT=str(free_port()),
                **emu.env(),
            )
            proc, ready, healthy = await start(emu, env, cwd)
            rows.append(("start-up, first run (initdb): gateway READY / healthy", f"{ready:.2f} s / {healthy:.2f} s"))
            await proc.stop(signal.SIGTERM)
            proc, ready, healthy = await start(emu, env, cwd)
            rows.append(("start-up, restart: gateway READY / healthy", f"{ready:.2f} s / {healthy:.2f} s"))
            try:
                await asyncio.sleep(5)
                assert proc.proc is not None
                own, total = rss_mb(proc.proc.pid, data_dir)
                rows.append(
                    (
                        "idle RSS after 5 s: marquee / with embedded PostgreSQL + Redis",
                        f"{own:.0f} MiB / {total:.0f} MiB",
                    )
                )
                kinds = ["now_playing", "popular", "top_rated", "upcoming", "trending"]
                browse = await ack_latencies(emu, "browse", [{"list": kinds[i % 5]} for i in range(CONCURRENCY)])
                rows.append(
                    (
                        f"/browse ack, {CONCURRENCY} concurrent: p50 / p99",
                        f"{ms(statistics.median(browse))} / {ms(percentile(browse, 99))}",
                    )
                )
                films = [{"title": str(1000 + i)} for i in range(CONCURRENCY)]
                movie = await ack_latencies(emu, "movie", films)
                rows.append(
                    (
                        f"/movie ack, {CONCURRENCY} concurrent (cold details): p50 / p99",
                        f"{ms(statistics.median(movie))} / {ms(percentile(movie, 99))}",
                    )
                )
                rows.append(await shutdown_drain(emu, tmdb, proc))
            finally:
                await proc.stop(signal.SIGTERM)


async def shutdown_drain(emu: Any, tmdb: FakeTMDB, proc: MarqueeProcess) -> tuple[str, str]:
    """SIGTERM with DRAIN_COMMANDS /watched in flight (each waiting on a 1 s TMDB): how many
    are answered "Marked", and how long the stop takes."""
    tmdb.latency = 1.0
    marks = [await emu.invoke("watched", {"title": str(1100 + n)}) for n in range(DRAIN_COMMANDS)]
    await asyncio.gather(*(r.wait_callback(10) for r in marks))
    assert proc.proc is not None
    began = time.monotonic()
    proc.proc.send_signal(signal.SIGTERM)
    finals = await asyncio.gather(*(r.wait_final(20) for r in marks), return_exceptions=True)
    await proc.wait(30)
    stopped = time.monotonic() - began
    answered = sum(1 for f in finals if isinstance(f, dict) and "Marked" in str(f.get("content")))
    return (
        "shutdown drain: /watched in flight at SIGTERM answered / total; time to exit",
        f"{answered} / {DRAIN_COMMANDS}; {stopped:.2f} s",
    )


async def service_benchmarks(rows: list[tuple[str, str]]) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-") as tmp:
        async with FakeTMDB() as tmdb:
            settings = make_settings(tmdb_token=tmdb.token, tmdb_api_base=tmdb.base_url, marquee_data_dir=Path(tmp))
            async with open_services(settings, tmdb_retry=TEST_RETRY) as services:
                tmdb.latency = 0.05  # a TMDB round trip
                began = time.perf_counter()
                await asyncio.gather(*(services.catalog.browse("popular") for _ in range(CONCURRENCY)))
                cold = time.perf_counter() - began
                calls = len(tmdb.calls_to("/movie/popular"))
                rows.append(
                    (
                        f"cold /browse, {CONCURRENCY} concurrent requests of one list: TMDB calls",
                        f"{calls} (all answered in {ms(cold)})",
                    )
                )
                warm = []
                for _ in range(1000):
                    began = time.perf_counter()
                    await services.catalog.browse("popular")
                    warm.append(time.perf_counter() - began)
                rows.append(
                    (
                        "warm /browse service time (Redis hit), 1000 sequential: p50 / p99",
                        f"{ms(statistics.median(warm))} / {ms(percentile(warm, 99))}",
                    )
                )


async def main() -> None:
    print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores, Python {sys.version.split()[0]}\n")
    print("| measure | result |\n|---|---|", flush=True)
    rows = PrintedRows()
    await service_benchmarks(rows)
    await process_benchmarks(rows)
    await ai_benchmarks(rows)
    await webhook_burst(rows)
    await personal_benchmarks(rows)
    await import_benchmarks(rows)
    await movienight_benchmarks(rows)
    await shard_benchmarks(rows)
    await vector_benchmarks(rows)


if __name__ == "__main__":
    asyncio.run(main())
