"""The arq worker on the real Redis, and the embedded servers' bookkeeping."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from redis.asyncio import Redis

from services.embedded import clear_dead_pids, embedded_redis
from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from worker.settings import run_worker


async def test_warm_lists_job_fills_the_cache(services: Services, tmdb: FakeTMDB) -> None:
    worker = asyncio.create_task(run_worker(services))
    try:
        job = await services.redis.enqueue_job("warm_lists")
        assert job is not None
        assert await job.result(timeout=20) == 5
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    calls = len(tmdb.calls)
    for kind in ("now_playing", "popular", "top_rated", "upcoming", "trending"):
        await services.catalog.browse(kind)
    assert len(tmdb.calls) == calls  # every list now comes from Redis


def test_dead_pids_are_forgotten(tmp_path: Path) -> None:
    pids_file = tmp_path / ".handle_pids.json"
    import os

    pids_file.write_text(json.dumps([os.getpid(), 2**22 + 12345]))
    assert clear_dead_pids(pids_file) == [2**22 + 12345]
    assert json.loads(pids_file.read_text()) == [os.getpid()]


async def test_a_second_process_joins_the_running_embedded_redis(tmp_path: Path) -> None:
    async with embedded_redis(tmp_path) as owner_url:
        async with embedded_redis(tmp_path) as joined_url:
            assert joined_url == owner_url
        client = Redis.from_url(owner_url)
        try:
            assert await client.ping()  # the joiner leaving did not stop the owner's server
        finally:
            await client.aclose()
    assert not (tmp_path / "redis.json").exists()
