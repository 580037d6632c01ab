"""Typed JSON cache in Redis with single-flight loading; when Redis is down it steps aside.

Values go in and come out as typed models: each key has a pydantic `TypeAdapter` that dumps the
value to JSON and validates it on the way back, so only what parsed is ever cached, and an entry
that no longer validates (an older shape) is a miss, not an error.

A Redis failure opens a short circuit: for `REDIS_RETRY_SECONDS` lookups skip Redis entirely,
so a dead Redis costs one failed call every few seconds instead of one per request.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
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
        self._flights: dict[str, asyncio.Task[Any]] = {}

    @property
    def redis_available(self) -> bool:
        return self.redis is not None and time.monotonic() >= self._down_until

    def _redis_failed(self, exc: BaseException) -> None:
        if time.monotonic() >= self._down_until:
            log.warning("Redis unreachable (%s); serving without cache for now", type(exc).__name__)
        self._down_until = time.monotonic() + REDIS_RETRY_SECONDS
        self.metrics.cache.labels("error").inc()

    async def get(self, key: str, codec: TypeAdapter[T]) -> T | None:
        if not self.redis_available:
            return None
        assert self.redis is not None
        try:
            raw = await self.redis.get(KEY_PREFIX + key)
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)
            return None
        if raw is None:
            self.metrics.cache.labels("miss").inc()
            return None
        try:
            value = codec.validate_json(raw)
        except ValidationError:
            log.warning("dropping a cache entry that no longer parses: %s", key)
            self.metrics.cache.labels("miss").inc()
            return None
        self.metrics.cache.labels("hit").inc()
        return value

    async def set(self, key: str, value: T, ttl: float, codec: TypeAdapter[T]) -> None:
        if not self.redis_available:
            return
        assert self.redis is not None
        try:
            await self.redis.set(KEY_PREFIX + key, codec.dump_json(value), px=int(ttl * 1000))
        except (RedisError, OSError) as exc:
            self._redis_failed(exc)

    async def get_or_load(
        self,
        key: str,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        codec: TypeAdapter[T],
        *,
        refresh: bool = False,
    ) -> tuple[T, bool]:
        """The cached value, or `load()` stored for `ttl` seconds; returns (value, loaded_now).
        With `refresh`, loads and stores regardless of what is cached (refresh ahead of expiry).

        Concurrent callers for one key share one flight, and the cache is read inside it, so N
        cold requests make one load. The flight is a task of its own: a caller that gives up
        (timeout, cancelled interaction) does not cancel it, and its result still fills the cache.
        """
        flight_key = ("refresh:" if refresh else "") + key
        flight = self._flights.get(flight_key)
        if flight is None:
            flight = asyncio.create_task(self._fly(key, ttl, load, codec, refresh), name=f"cache-load:{key}")
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda done: self._land(flight_key, done))
        result: tuple[T, bool] = await asyncio.shield(flight)
        return result

    def _land(self, key: str, flight: asyncio.Task[Any]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # the waiters have it; this only marks it seen when nobody waited

    async def _fly(
        self, key: str, ttl: float, load: Callable[[], Awaitable[T]], codec: TypeAdapter[T], refresh: bool
    ) -> tuple[T, bool]:
        if not refresh:
            cached = await self.get(key, codec)
            if cached is not None:
                return cached, False
        value = await load()
        await self.set(key, value, ttl, codec)
        return value, True

    async def close(self) -> None:
        """Cancel flights nobody is waiting for any more (at shutdown)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
