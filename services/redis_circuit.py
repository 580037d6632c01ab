"""One circuit breaker in front of Redis for everything that can do without it (the cache, the
cross-process locks, the rate limits and counters).

A Redis failure opens the circuit: for `REDIS_RETRY_SECONDS` every call raises `RedisDown` at
once without touching the network, so a dead Redis costs one failed call every few seconds
instead of one per request, and each caller falls back to its in-process way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)
T = TypeVar("T")
REDIS_RETRY_SECONDS = 5.0


class RedisDown(Exception):
    """Redis is unreachable (now, or recently): use the in-process fallback."""


class RedisCircuit:
    def __init__(self, redis: Redis | None) -> None:
        self.redis = redis
        self._down_until = 0.0

    @property
    def available(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._down_until

    async def run(self, call: Callable[[Redis], Awaitable[T]]) -> T:
        if not self.available:
            raise RedisDown()
        assert self.redis is not None
        try:
            return await call(self.redis)
        except (RedisError, OSError) as exc:
            if time.monotonic() >= self._down_until:
                log.warning("Redis unreachable (%s); carrying on without it for now", type(exc).__name__)
            self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
            raise RedisDown() from exc

    async def eval_int(self, script: str, key: str, *args: int) -> int:
        """Run a Lua `script` on one key; its integer answer."""

        async def call(redis: Redis) -> int:
            answer = redis.eval(script, 1, key, *(str(arg) for arg in args))
            return int(await answer if isinstance(answer, Awaitable) else answer)

        return await self.run(call)
