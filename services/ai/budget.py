"""The operator's guards on AI cost: each user's rate limit and free daily quota, and the daily
token budget across all users (AI_DAILY_FREE_QUOTA, AI_DAILY_TOKEN_BUDGET)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from services.errors import BudgetSpent, MarqueeError, QuotaExceeded, RateLimited
from services.limits import DailyCounter, RateLimiter, next_utc_midnight, utc_day
from services.metrics import Metrics
from services.redis_circuit import RedisCircuit

log = logging.getLogger(__name__)

BURST = 3  # AI commands a user may send at once...
INTERVAL = 5.0  # ...then one every this many seconds


class Charge:
    """A block of AI work: whether it took one of the user's free requests, and whether any LLM
    call in it was paid for (the model answered: `answered()`, called by the LLM client)."""

    def __init__(self) -> None:
        self.taken = False
        self.paid = False
        self.refunded = False

    def answered(self) -> None:
        self.paid = True

    def refund(self) -> None:
        """Give the user their request back even though the model answered (the answer could
        not be used through no fault of theirs)."""
        self.refunded = True


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
    calls the LLM must pay for (a cached answer is free). Pro users (`has_pro`) are not capped."""

    def __init__(
        self,
        circuit: RedisCircuit,
        quota: int,
        metrics: Metrics,
        *,
        has_pro: Callable[[int], Awaitable[bool]],
        upsell: bool,
    ) -> None:
        self._rate = RateLimiter(circuit, "ai", burst=BURST, interval=INTERVAL)
        self._quota = DailyCounter(circuit, "ai_quota")
        self.quota = quota
        self._metrics = metrics
        self._has_pro = has_pro
        self._upsell = upsell

    async def admit(self, discord_id: int) -> None:
        wait = await self._rate.hit(str(discord_id))
        if wait > 0:
            self._metrics.ai_refusals.labels("rate_limit").inc()
            raise RateLimited(wait)

    @asynccontextmanager
    async def charge(self, discord_id: int) -> AsyncIterator[Charge]:
        """One of today's free requests for the block (none for Pro, or with no cap). It is given
        back when the block paid for no LLM call (answered from a cache or another request's
        flight, or failed before the model answered: a limit, a time-out, a 429 or 5xx), or when
        it was `refund()`ed. Otherwise, once the model has answered, it counts whatever came of
        it, and a failure says so."""
        charge = Charge()
        if self.quota and not await self._has_pro(discord_id):
            if not await self._quota.take(str(discord_id), self.quota):
                self._metrics.ai_refusals.labels("quota").inc()
                raise QuotaExceeded(self.quota, next_utc_midnight(), upsell=self._upsell)
            charge.taken = True
        try:
            yield charge
        except BaseException as exc:
            if not charge.paid or charge.refunded:
                await self._give_back(discord_id, charge)
            elif charge.taken and isinstance(exc, MarqueeError):
                left = max(0, self.quota - await self.used(discord_id))
                exc.quota_note = f"That used one of today's {self.quota} free AI requests ({left} left)."
            raise
        if not charge.paid or charge.refunded:
            await self._give_back(discord_id, charge)

    async def _give_back(self, discord_id: int, charge: Charge) -> None:
        if charge.taken:
            charge.taken = False
            await self._quota.add(str(discord_id), -1)

    async def used(self, discord_id: int) -> int:
        return await self._quota.used(str(discord_id))
