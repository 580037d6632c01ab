"""Which shards a bot process runs, and the IDENTIFY queue with Redis away (bot/shards.py)."""

from __future__ import annotations

import logging
import time

import pytest
from redis.asyncio import Redis

from bot.shards import COUNT_KEY, IdentifyQueue, plan_shards
from services.errors import ConfigError
from tests.conftest import make_settings
from tests.process import free_port


async def test_processes_split_the_count_discord_recommends_shared_through_redis(redis_url: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        first = await plan_shards(make_settings(shard_processes=3, shard_process_index=1), redis, recommended=8)
        assert (first.count, first.ids) == (8, [1, 4, 7])
        # A process started later, when Discord recommends more, keeps to the stored count.
        later = await plan_shards(make_settings(shard_processes=3, shard_process_index=2), redis, recommended=10)
        assert (later.count, later.ids) == (8, [2, 5])
        assert int(await redis.get(COUNT_KEY)) == 8
        explicit = await plan_shards(make_settings(shard_count=4, shard_ids=[3, 1]), redis, recommended=10)
        assert (explicit.count, explicit.ids) == (4, [1, 3])
        with pytest.raises(ConfigError):
            await plan_shards(make_settings(shard_processes=2, shard_process_index=2), redis, recommended=8)
        with pytest.raises(ConfigError):
            await plan_shards(make_settings(shard_count=4, shard_ids=[4]), redis, recommended=8)
    finally:
        await redis.aclose()


async def test_the_pod_ordinal_is_the_process_index(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    redis = Redis.from_url(redis_url)
    try:
        monkeypatch.setenv("HOSTNAME", "marquee-bot-1")
        plan = await plan_shards(make_settings(shard_processes=2), redis, recommended=4)
        assert plan.ids == [1, 3] and plan.process == "process 1 of 2"
    finally:
        await redis.aclose()


async def test_redis_away_falls_back_to_spacing_this_processs_identifies(caplog: pytest.LogCaptureFixture) -> None:
    dead = Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.5)
    queue = IdentifyQueue(dead, max_concurrency=1)
    try:
        with caplog.at_level(logging.WARNING):
            started = time.monotonic()
            await queue.wait_turn(0, initial=True)  # the first of the process: at once
            first = time.monotonic() - started
            await queue.wait_turn(1, initial=False)  # the next: Discord's 5 seconds later
            second = time.monotonic() - started - first
        assert first < 2 and second >= 5
        assert sum("spacing this process's IDENTIFYs" in r.message for r in caplog.records) == 1
        plan = await plan_shards(make_settings(), dead, recommended=2)  # the count: Discord's, unshared
        assert plan.count == 2
    finally:
        await dead.aclose()
