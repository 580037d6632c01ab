"""Typed JSON cache in Redis with single-flight loading, in-process and across processes; when
Redis is down it steps aside.

Values go in and come out as typed models: each key has a pydantic `TypeAdapter` that dumps the
value to JSON and validates it on the way back, so only what parsed is ever cached, and an entry
that no longer validates (an older shape) is a miss, not an error.

A cold key is loaded once however many ask for it: callers in one process share one flight (a
task), and flights in different processes take turns through a Redis lock, each re-reading the
cache once it holds the lock. With Redis down, the in-process flight still holds.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError
from redis.asyncio.lock import Lock
from redis.exceptions import LockError

from services.metrics import Metrics
from services.redis_circuit import RedisCircuit, RedisDown

log = logging.getLogger(__name__)

T = TypeVar("T")
KEY_PREFIX = "marquee:"
LOCK_POLL_SECONDS = 0.05


class Cache:
    def __init__(self, circuit: RedisCircuit, metrics: Metrics) -> None:
        self.circuit = circuit
        self.metrics = metrics
        self._flights: dict[str, asyncio.Task[Any]] = {}

    async def get(self, key: str, codec: TypeAdapter[T]) -> T | None:
        try:
            raw = await self.circuit.run(lambda redis: redis.get(KEY_PREFIX + key))
        except RedisDown:
            self.metrics.cache.labels("error").inc()
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
        payload = codec.dump_json(value)
        try:
            await self.circuit.run(lambda redis: redis.set(KEY_PREFIX + key, payload, px=int(ttl * 1000)))
        except RedisDown:
            self.metrics.cache.labels("error").inc()

    async def delete(self, key: str) -> None:
        """Forget a cached value (RedisDown when it could not be: the caller must know)."""
        await self.circuit.run(lambda redis: redis.delete(KEY_PREFIX + key))

    async def get_or_load(
        self,
        key: str,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        codec: TypeAdapter[T],
        *,
        refresh: bool = False,
        lock_seconds: float = 15.0,
    ) -> tuple[T, bool]:
        """The cached value, or `load()` stored for `ttl` seconds; returns (value, loaded_now),
        where `loaded_now` is True only for the one caller whose flight ran `load()`. With
        `refresh`, loads and stores regardless of what is cached (refresh ahead of expiry).

        Concurrent callers for one key share one flight, and the cache is read inside it, so N
        cold requests make one load; across processes the flights queue on a Redis lock held
        for at most `lock_seconds` (longer than a load may take). The flight is a task of its
        own: a caller that gives up (timeout, cancelled interaction) does not cancel it, and its
        result still fills the cache.
        """
        flight_key = ("refresh:" if refresh else "") + key
        flight = self._flights.get(flight_key)
        leader = flight is None
        if flight is None:
            flight = asyncio.create_task(
                self._fly(key, ttl, load, codec, refresh, lock_seconds), name=f"cache-load:{key}"
            )
            self._flights[flight_key] = flight
            flight.add_done_callback(lambda done: self._land(flight_key, done))
        value, loaded = await asyncio.shield(flight)
        return value, loaded and leader

    def _land(self, key: str, flight: asyncio.Task[Any]) -> None:
        self._flights.pop(key, None)
        if not flight.cancelled():
            flight.exception()  # the waiters have it; this only marks it seen when nobody waited

    async def _fly(
        self,
        key: str,
        ttl: float,
        load: Callable[[], Awaitable[T]],
        codec: TypeAdapter[T],
        refresh: bool,
        lock_seconds: float,
    ) -> tuple[T, bool]:
        if refresh:
            value = await load()
            await self.set(key, value, ttl, codec)
            return value, True
        cached = await self.get(key, codec)
        if cached is not None:
            return cached, False
        lock = await self._lock(key, lock_seconds)
        try:
            if lock is not None:
                # Another process may have loaded it while we waited for the lock.
                cached = await self.get(key, codec)
                if cached is not None:
                    return cached, False
            value = await load()
            await self.set(key, value, ttl, codec)
            return value, True
        finally:
            if lock is not None:
                await self._unlock(lock)

    async def _lock(self, key: str, seconds: float) -> Lock | None:
        """The cross-process lock of a key's flight, once this process holds it; None when Redis
        is down or the holder outlived `seconds` (then this flight loads on its own)."""
        redis = self.circuit.redis
        if redis is None:
            return None
        lock = redis.lock(f"{KEY_PREFIX}lock:{key}", timeout=seconds, sleep=LOCK_POLL_SECONDS, blocking_timeout=seconds)
        try:
            acquired = await self.circuit.run(lambda _: lock.acquire())
        except RedisDown:
            return None
        if not acquired:
            log.warning("waited %.0fs for another process to load %s; loading it here", seconds, key)
            return None
        return lock

    async def _unlock(self, lock: Lock) -> None:
        async def release(_: object) -> None:
            with suppress(LockError):  # it expired while we loaded: nothing to release
                await lock.release()

        with suppress(RedisDown):  # it expires on its own
            await self.circuit.run(release)

    async def close(self) -> None:
        """Cancel flights nobody is waiting for any more (at shutdown)."""
        flights = list(self._flights.values())
        for flight in flights:
            flight.cancel()
        await asyncio.gather(*flights, return_exceptions=True)
