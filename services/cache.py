"""JSON cache in Redis with single-flight loading; when Redis is down it steps aside.

A Redis failure opens a short circuit: for `REDIS_RETRY_SECONDS` lookups skip Redis entirely,
so a dead Redis costs one failed call every few seconds instead of one per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.metrics import Metrics

log = logging.getLogger(__name__)

T = TypeVar("T")
KEY_PREFIX = "marquee:"
REDIS_RETRY_SECONDS = 5.0


class Cache:
    def __init__(self, redis: Redis | None, metrics: Metrics) -> None:
        self.redis = redis
        self.metrics = metrics
        self._down_until = 0.0
        self._flights: dict[str, asyncio.Task[tuple[Any, bool]]] = {}

    @property
    def redis_available(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("Redis unreachable (%s); serving without cache for now", type(exc).__name__)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        self.metrics.cache.inc("error")

    async def get(self, key: str) -> Any | None:
        if not self.redis_available:
            return None
        assert self.redis is not None
        try:
            raw = await self.redis.get(KEY_PREFIX + key)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None
        self.metrics.cache.inc("hit" if raw is not None else "miss")
        return None if raw is None else json.loads(raw)

    async def set(self, key: str, value: Any, ttl: float) -> None:
        if not self.redis_available:
            return
        assert self.redis is not None
        try:
            await self.redis.set(KEY_PREFIX + key, json.dumps(value, separators=(",", ":")), px=int(ttl * 1000))
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)

    async def get_or_load(self, key: str, ttl: float, load: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        """The cached value, or `load()` stored for `ttl` seconds; returns (value, loaded_now).

        Concurrent callers for one key share one flight, and the cache is read inside it, so N
        cold requests make one load. The flight is a task of its own: a caller that gives up
        (timeout, cancelled interaction) does not cancel it, and its result still fills the cache.
        """
        flight = self._flights.get(key)
        if flight is None:
            flight = asyncio.create_task(self._fly(key, ttl, load), name=f"cache-load:{key}")
            self._flights[key] = flight
            flight.add_done_callback(lambda done: self._land(key, done))
        return await asyncio.shield(flight)

    def _land(self, key: str, flight: asyncio.Task[tuple[Any, bool]]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # the waiters have it; this only marks it seen when nobody waited

    async def _fly(self, key: str, ttl: float, load: Callable[[], Awaitable[Any]]) -> tuple[Any, bool]:
        cached = await self.get(key)
        if cached is not None:
            return cached, False
        value = await load()
        await self.set(key, value, ttl)
        return value, True

    async def close(self) -> None:
        """Cancel flights nobody is waiting for any more (at shutdown)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
