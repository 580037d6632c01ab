"""Rate limits and daily counters, kept in Redis so every process shares them; while Redis is
down each process keeps its own in memory (the limits still hold, per process)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from services.redis_circuit import RedisCircuit, RedisDown

KEY_PREFIX = "marquee:"

# GCRA (generic cell rate algorithm): one timestamp per key, the "theoretical arrival time".
# Returns 0 when the request is allowed, else the milliseconds until it would be.
_GCRA = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tolerance = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if now < tat - tolerance then return tat - tolerance - now end
redis.call('SET', KEYS[1], tat + interval, 'PX', tat + interval - now)
return 0
"""

# Add one unless that would pass the limit; 1 when taken, 0 when the limit is reached.
_TAKE = """
local used = redis.call('INCR', KEYS[1])
if used == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if used > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return 0
end
return 1
"""

_ADD = """
local total = redis.call('INCRBY', KEYS[1], ARGV[1])
if total == tonumber(ARGV[1]) then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
return total
"""

DAY_KEY_SECONDS = 2 * 24 * 3600  # counters outlive their day a little, then Redis drops them


def now_ms() -> int:
    return int(time.time() * 1000)


class RateLimiter:
    """`burst` requests at once, then one every `interval` seconds, per key."""

    def __init__(self, circuit: RedisCircuit, name: str, *, burst: int, interval: float) -> None:
        self._circuit = circuit
        self._name = name
        self._interval_ms = int(interval * 1000)
        self._tolerance_ms = self._interval_ms * (burst - 1)
        self._local: dict[str, int] = {}

    async def hit(self, key: str) -> float:
        """Count a request; returns 0 when it may go ahead, else the seconds to wait."""
        now = now_ms()
        args = (now, self._interval_ms, self._tolerance_ms)
        try:
            wait_ms = await self._circuit.eval_int(_GCRA, f"{KEY_PREFIX}rate:{self._name}:{key}", *args)
        except RedisDown:
            wait_ms = self._hit_locally(key, now)
        return wait_ms / 1000

    def _hit_locally(self, key: str, now: int) -> int:
        tat = max(self._local.get(key, 0), now)
        if now < tat - self._tolerance_ms:
            return tat - self._tolerance_ms - now
        self._local[key] = tat + self._interval_ms
        if len(self._local) > 10_000:  # forget keys whose limit has lapsed
            self._local = {k: v for k, v in self._local.items() if v > now}
        return 0


def utc_day(at: datetime | None = None) -> str:
    return (at or datetime.now(UTC)).strftime("%Y-%m-%d")


def next_utc_midnight(at: datetime | None = None) -> datetime:
    at = at or datetime.now(UTC)
    return datetime(at.year, at.month, at.day, tzinfo=UTC) + timedelta(days=1)


class DailyCounter:
    """Counts per key for the current UTC day; a new day starts from zero."""

    def __init__(self, circuit: RedisCircuit, name: str) -> None:
        self._circuit = circuit
        self._name = name
        self._local: dict[tuple[str, str], int] = {}

    def _key(self, day: str, key: str) -> str:
        return f"{KEY_PREFIX}day:{self._name}:{day}:{key}"

    async def used(self, key: str) -> int:
        day = utc_day()
        try:
            value = await self._circuit.run(lambda redis: redis.get(self._key(day, key)))
        except RedisDown:
            return self._local.get((day, key), 0)
        return int(value or 0)

    async def take(self, key: str, limit: int) -> bool:
        """Add one to today's count unless it has reached `limit`; True when taken."""
        day = utc_day()
        try:
            return bool(await self._circuit.eval_int(_TAKE, self._key(day, key), limit, DAY_KEY_SECONDS))
        except RedisDown:
            self._forget_other_days(day)
            if self._local.get((day, key), 0) >= limit:
                return False
            self._local[(day, key)] = self._local.get((day, key), 0) + 1
            return True

    async def add(self, key: str, amount: int) -> int:
        """Add `amount` (negative to give back) to today's count; returns the new count."""
        day = utc_day()
        try:
            return await self._circuit.eval_int(_ADD, self._key(day, key), amount, DAY_KEY_SECONDS)
        except RedisDown:
            self._forget_other_days(day)
            total = self._local[(day, key)] = self._local.get((day, key), 0) + amount
            return total

    def _forget_other_days(self, day: str) -> None:
        if any(d != day for d, _ in self._local):
            self._local = {k: v for k, v in self._local.items() if k[0] == day}
