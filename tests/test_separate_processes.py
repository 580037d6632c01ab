"""`marquee web` and `marquee worker` as their own processes on shared PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from tests.fakes.tmdb import FakeTMDB
from tests.process import MarqueeProcess, base_env, free_port
from tests.test_e2e_process import assert_clean


async def test_web_and_worker_processes(tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str) -> None:
    port = free_port()
    env = base_env(
        TMDB_TOKEN=tmdb.token,
        TMDB_API_BASE=tmdb.base_url,
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        WEB_PORT=str(port),
    )
    web = await MarqueeProcess(["web"], env, tmp_path).start()
    worker = await MarqueeProcess(["worker"], env, tmp_path).start()
    redis = Redis.from_url(redis_url)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                        body = await resp.json()
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        assert body == {"status": "ok", "database": "ok", "redis": "ok"}
        # The worker warms every list at start-up: the cache fills without any command.
        for _ in range(600):
            if len(await redis.keys("marquee:tmdb:/*movie*")) >= 5:
                break
            await asyncio.sleep(0.05)
        assert {c.path for c in tmdb.calls} >= {
            "/movie/now_playing",
            "/movie/popular",
            "/movie/top_rated",
            "/movie/upcoming",
            "/trending/movie/week",
        }
        assert await web.stop(signal.SIGTERM) == 0
        assert await worker.stop(signal.SIGTERM) == 0
    finally:
        web.kill()
        worker.kill()
        await redis.aclose()
    assert_clean(web.output())
    assert_clean(worker.output())
