"""Several bot processes, one bot: `marquee bot` processes against the Discord emulator sharding as
Discord does (one IDENTIFY per 5 s with `max_concurrency` 1), on embedded PostgreSQL and Redis.

- start-up of 4 processes × 4 shards at once: until every shard is READY, against the floor
  Discord's limit sets (16 shards: 15 waits of 5 s, 75 s), and IDENTIFYs refused (target 0);
- 1,000 commands spread over 200 servers on 8 shards in 2 processes: the ack p99, how many were
  answered once (target 1,000, no duplicates), and each process's RSS.

    python -m bench.shards
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import psutil

from bench.common import Rows, embedded_settings, ms, p99, percentile
from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.tmdb import FakeTMDB
from tests.process import MarqueeProcess, stores_env

COMMANDS, SERVERS = 1000, 200
BATCH = 100  # commands dispatched at once


async def start_processes(
    emu: Any, tmdb: FakeTMDB, dsn: str, redis_url: str, processes: int, cwd: Path
) -> list[MarqueeProcess]:
    env = dict(stores_env(tmdb, dsn, redis_url, METRICS_PORT="0", SHARD_PROCESSES=str(processes), **emu.env()))
    return [
        await MarqueeProcess(["bot"], {**env, "SHARD_PROCESS_INDEX": str(i)}, cwd).start() for i in range(processes)
    ]


async def start_up(rows: Rows, tmdb: FakeTMDB, dsn: str, redis_url: str, cwd: Path) -> None:
    processes, per_process = 4, 4
    shards = processes * per_process
    async with DiscordEmulator(recommended_shards=shards, max_concurrency=1) as emu:
        began = time.monotonic()
        bots = await start_processes(emu, tmdb, dsn, redis_url, processes, cwd)
        try:
            await emu.wait_shards(range(shards), 240)
            took = time.monotonic() - began
            floor = (shards - 1) * 5.0
            stamps = [t for t, _, _ in emu.identify_log]
            gaps = [b - a for a, b in itertools.pairwise(stamps)]
            rows.append(
                (
                    f"start-up of {processes} bot processes × {per_process} shards at once, max_concurrency 1:"
                    " every shard READY (the floor Discord's limit sets: 15 × 5 s = 75 s); IDENTIFYs refused",
                    f"{took:.1f} s = {took / floor:.2f}× the floor; {len(emu.identify_refused)} refused"
                    f" (target 0); gaps between IDENTIFYs {min(gaps):.2f}–{max(gaps):.2f} s",
                )
            )
        finally:
            for bot in bots:
                await bot.stop()


async def commands(rows: Rows, tmdb: FakeTMDB, dsn: str, redis_url: str, cwd: Path) -> None:
    processes, shards = 2, 8
    async with DiscordEmulator(recommended_shards=shards, max_concurrency=1) as emu:
        servers = [emu.add_guild(shard=(n % shards, shards)) for n in range(SERVERS)]
        bots = await start_processes(emu, tmdb, dsn, redis_url, processes, cwd)
        try:
            await emu.wait_shards(range(shards), 120)
            records = []
            for start in range(0, COMMANDS, BATCH):
                records += await asyncio.gather(
                    *(emu.invoke("help", guild_id=servers[n % SERVERS]) for n in range(start, start + BATCH))
                )
                await asyncio.gather(*(r.wait_callback(15) for r in records[start:]))
            acks = [r.initial_latency for r in records if r.initial_latency is not None]
            once = sum(1 for r in records if r.callback_type is not None and not r.rejected)
            twice = sum(1 for r in records if r.rejected)
            rss = [psutil.Process(b.proc.pid).memory_info().rss / 2**20 for b in bots if b.proc is not None]
            rows.append(
                (
                    f"{COMMANDS:,} commands over {SERVERS} servers on {shards} shards in {processes} processes"
                    f" ({BATCH} at once): ack p50 / p99; answered once (target {COMMANDS:,}); RSS per process",
                    f"{ms(percentile(acks, 50))} / {ms(p99(acks))}; {once:,} answered once, {twice} twice;"
                    f" {' / '.join(f'{r:.0f} MiB' for r in rss)}",
                )
            )
        finally:
            for bot in bots:
                await bot.stop()


async def shard_benchmarks(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-shards-") as tmp:
        async with AsyncExitStack() as stack:
            tmdb = await stack.enter_async_context(FakeTMDB())
            settings = await embedded_settings(stack, Path(tmp) / "data", tmdb)
            assert settings.database_url is not None and settings.redis_url is not None
            dsn, redis_url = settings.database_url.get_secret_value(), settings.redis_url.get_secret_value()
            await commands(rows, tmdb, dsn, redis_url, Path(tmp))
            await flush(redis_url)
            await start_up(rows, tmdb, dsn, redis_url, Path(tmp))


async def flush(redis_url: str) -> None:
    """A new bot: the shared shard count and the IDENTIFY queue start afresh."""
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


if __name__ == "__main__":
    out: Rows = []
    asyncio.run(shard_benchmarks(out))
    print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores\n\n| measure | result |\n|---|---|")
    for name, value in out:
        print(f"| {name} | {value} |")
