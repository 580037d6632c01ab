"""The operator's guards on AI cost: each user's rate limit and free daily quota, and the daily
token budget across all users (AI_DAILY_FREE_QUOTA, AI_DAILY_TOKEN_BUDGET)."""

from __future__ import annotations

import logging

from services.db.pool import Database
from services.db.users import tier_of
from services.errors import BudgetSpent, DatabaseUnavailable, QuotaExceeded, RateLimited
from services.limits import DailyCounter, RateLimiter, next_utc_midnight, utc_day
from services.metrics import Metrics
from services.redis_circuit import RedisCircuit

log = logging.getLogger(__name__)

BURST = 3  # AI commands a user may send at once...
INTERVAL = 5.0  # ...then one every this many seconds


class TokenBudget:
    def __init__(self, circuit: RedisCircuit, limit: int | None, metrics: Metrics) -> None:
        self._tokens = DailyCounter(circuit, "llm_tokens")
        self.limit = limit
        self._metrics = metrics
        self._warned_on: str | None = None

    async def check(self) -> None:
        """BudgetSpent once today's tokens reached the budget (the log warns once a day)."""
        if self.limit is None:
            return
        used = await self._tokens.used("all")
        if used < self.limit:
            return
        if self._warned_on != utc_day():
            self._warned_on = utc_day()
            log.warning(
                "AI_DAILY_TOKEN_BUDGET of %d tokens is spent (%d used); AI is off until midnight UTC", self.limit, used
            )
        self._metrics.ai_refusals.labels("budget").inc()
        raise BudgetSpent(next_utc_midnight())

    async def spend(self, tokens: int) -> None:
        if tokens > 0:
            await self._tokens.add("all", tokens)

    async def used(self) -> int:
        return await self._tokens.used("all")


class UserLimits:
    """Per user: the burst rate limit on every AI command, and the free daily quota that only
    calls the LLM must pay for (a cached answer is free)."""

    def __init__(self, circuit: RedisCircuit, db: Database, quota: int, metrics: Metrics, *, billing: bool) -> None:
        self._rate = RateLimiter(circuit, "ai", burst=BURST, interval=INTERVAL)
        self._quota = DailyCounter(circuit, "ai_quota")
        self._db = db
        self.quota = quota
        self._metrics = metrics
        self._billing = billing  # with billing off nobody is Pro, and the quota guards the bill

    async def admit(self, discord_id: int) -> None:
        wait = await self._rate.hit(str(discord_id))
        if wait > 0:
            self._metrics.ai_refusals.labels("rate_limit").inc()
            raise RateLimited(wait)

    async def take(self, discord_id: int) -> bool:
        """Take one of today's free requests; False when none was needed (Pro, or no cap)."""
        if self.quota == 0 or await self._is_pro(discord_id):
            return False
        if not await self._quota.take(str(discord_id), self.quota):
            self._metrics.ai_refusals.labels("quota").inc()
            raise QuotaExceeded(self.quota, next_utc_midnight(), upsell=self._billing)
        return True

    async def _is_pro(self, discord_id: int) -> bool:
        if not self._billing:
            return False
        try:
            async with self._db.connection() as conn:
                return await tier_of(conn, discord_id) == "pro"
        except DatabaseUnavailable:
            log.warning("database down: counting user %d against the free AI quota", discord_id)
            return False

    async def give_back(self, discord_id: int) -> None:
        """Return a request taken for an answer that turned out not to need the LLM."""
        await self._quota.add(str(discord_id), -1)

    async def used(self, discord_id: int) -> int:
        return await self._quota.used(str(discord_id))
