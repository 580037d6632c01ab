"""Several `marquee bot` processes, one bot: which shards this process runs, and the IDENTIFY
queue they all share.

- Shards: `SHARD_IDS`, else the slice `shard_id % SHARD_PROCESSES == SHARD_PROCESS_INDEX` (on
  Kubernetes the index is the pod's ordinal, the number ending its name), else all of them. The
  count is `SHARD_COUNT`, else the one Discord recommends (`GET /gateway/bot`), read by the first
  process and shared through Redis so every process splits the same count.
- IDENTIFY: Discord admits one per bucket (`shard_id % max_concurrency`) every 5 seconds, for
  the whole bot. Each bucket is a Redis key set for that long (`SET NX PX`): a shard identifies
  when it gets the key, whichever process it is in. With Redis away, the process spaces its own
  shards 5 seconds apart (discord.py's way), which is safe for one process only.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.config import Settings
from services.errors import ConfigError

log = logging.getLogger(__name__)

COUNT_KEY = "marquee:shards:count"
IDENTIFY_KEY = "marquee:shards:identify:{bucket}"
IDENTIFY_WINDOW = 5.0  # Discord's
MARGIN = 0.25  # our clocks and Discord's differ a little: keep clear of the edge
ORDINAL = re.compile(r"-(\d+)$")  # a StatefulSet pod's name: marquee-bot-2


@dataclass(frozen=True)
class ShardPlan:
    count: int
    ids: list[int]
    process: str  # how this process came by its shards, for the log


def process_index(settings: Settings) -> int | None:
    """SHARD_PROCESS_INDEX, else the ordinal ending the pod's name (HOSTNAME), with SHARD_PROCESSES."""
    if settings.shard_process_index is not None or not settings.shard_processes:
        return settings.shard_process_index
    found = ORDINAL.search(os.environ.get("HOSTNAME", ""))
    if found is None:
        raise ConfigError("SHARD_PROCESS_INDEX", "is needed with SHARD_PROCESSES (or a HOSTNAME ending in -<n>)")
    return int(found[1])


async def plan_shards(settings: Settings, redis: Redis, recommended: int) -> ShardPlan:
    count = settings.shard_count or await shared_count(redis, recommended)
    if settings.shard_ids:
        if any(not 0 <= i < count for i in settings.shard_ids):
            raise ConfigError("SHARD_IDS", f"must be shard ids below the shard count ({count})")
        return ShardPlan(count, sorted(settings.shard_ids), "SHARD_IDS")
    index = process_index(settings)
    processes = settings.shard_processes
    if processes and index is not None:
        if not 0 <= index < processes:
            raise ConfigError("SHARD_PROCESS_INDEX", f"must be from 0 to {processes - 1} (SHARD_PROCESSES={processes})")
        ids = [i for i in range(count) if i % processes == index]
        return ShardPlan(count, ids, f"process {index} of {processes}")
    return ShardPlan(count, list(range(count)), "every shard")


async def shared_count(redis: Redis, recommended: int) -> int:
    """The shard count every process uses: the first to start stores Discord's recommendation.
    Scaling to Discord's next recommendation is a decision: set SHARD_COUNT, or delete the key."""
    try:
        await redis.set(COUNT_KEY, recommended, nx=True)
        stored = await redis.get(COUNT_KEY)
    except (RedisError, OSError) as exc:
        log.warning("Redis is unreachable (%s): using Discord's recommended %d shards unshared", exc, recommended)
        return recommended
    count = int(stored) if stored else recommended
    if count != recommended:
        log.warning("running %d shards as stored in Redis; Discord now recommends %d", count, recommended)
    return count


class IdentifyQueue:
    """Whose turn it is to IDENTIFY, across every process of the bot (see the module's doc)."""

    def __init__(self, redis: Redis, max_concurrency: int) -> None:
        self._redis = redis
        self.max_concurrency = max(1, max_concurrency)
        self._local_fallback = False

    async def wait_turn(self, shard_id: int, *, initial: bool) -> None:
        key = IDENTIFY_KEY.format(bucket=shard_id % self.max_concurrency)
        window = int((IDENTIFY_WINDOW + MARGIN) * 1000)
        while True:
            try:
                if await self._redis.set(key, shard_id, nx=True, px=window):
                    return
                wait = await self._redis.pttl(key)
            except (RedisError, OSError) as exc:
                if not self._local_fallback:
                    self._local_fallback = True
                    log.warning("Redis is unreachable (%s): spacing this process's IDENTIFYs 5 s apart", exc)
                if not initial:
                    await asyncio.sleep(IDENTIFY_WINDOW + MARGIN)
                return
            await asyncio.sleep(max(wait, 20) / 1000)
