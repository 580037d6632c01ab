"""Pro: checkout, the plan, the gate, and keeping each user's tier equal to Stripe's state.

The tier is never taken from what an event says. Whatever tells us a customer changed (a
webhook, the reconciliation), we read the customer's subscriptions from Stripe and write what
they say now, under the user's row lock: events may come in any order and any number of times,
and the last write is always Stripe's current state.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime

import asyncpg
from arq.connections import ArqRedis

from services.billing.stripe_api import StripeAPI, Subscription, current_subscription
from services.db import billing as repo
from services.db import notices as outbox_repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import BillingOff, DatabaseUnavailable, NoSuchCustomer, ProRequired, StripeUnavailable
from services.notices import Outbox

log = logging.getLogger(__name__)

# What Pro adds, as the plan, /upgrade and the "you're Pro" DM say it.
PRO_PERKS = "search by meaning with `/semantic`, and no daily cap on `/ask` and `/foryou`."
CHECKOUT_REUSE_SECONDS = 600  # a second /upgrade within this window gets the same Checkout Session
# Subscriptions Stripe still holds (and may charge) that do not grant Pro: /upgrade sends these
# users to the billing portal, never to a second Checkout.
HELD = frozenset({"past_due", "unpaid", "incomplete", "paused"})


@dataclass(frozen=True)
class Plan:
    tier: str
    status: str | None
    period_end: datetime | None
    cancel_at_period_end: bool
    customer_id: str | None = None
    subscription_id: str | None = None

    @property
    def has_subscription(self) -> bool:
        return self.customer_id is not None and self.subscription_id is not None


@dataclass(frozen=True)
class Checkout:
    url: str  # an open Checkout Session's


@dataclass(frozen=True)
class NeedsAttention:
    """A subscription Stripe still holds but that is not paid: fixed in the billing portal."""

    status: str
    portal_url: str | None


@dataclass(frozen=True)
class Change:
    """What one sync did to a user (for notices and `marquee billing reconcile`)."""

    discord_id: int
    old_tier: str
    new_tier: str
    old_status: str | None
    new_status: str | None
    notices: tuple[int, ...] = ()  # the DMs this change owes (outbox ids)
    forgotten: bool = False  # Stripe no longer has the customer: the user has none now

    @property
    def changed(self) -> bool:
        return (self.old_tier, self.old_status) != (self.new_tier, self.new_status)

    def describe(self) -> str:
        before = f"{self.old_tier} ({self.old_status or 'no subscription'})"
        return f"user {self.discord_id}: {before} -> {self.new_tier} ({self.new_status or 'no subscription'})"


class BillingService:
    def __init__(self, api: StripeAPI | None, db: Database, redis: ArqRedis, *, public_url: str) -> None:
        self._outbox = Outbox(redis)
        self.api = api  # None: billing is off, the Pro gate is open
        self.db = db
        self._public_url = public_url.rstrip("/")
        self._customer_locks: dict[str, asyncio.Lock] = {}

    @property
    def enabled(self) -> bool:
        return self.api is not None

    def _require(self) -> StripeAPI:
        if self.api is None:
            raise BillingOff()
        return self.api

    # ------------------------------------------------------------------ commands
    async def checkout(self, discord_id: int) -> Checkout | Plan | NeedsAttention:
        """A Checkout link for Pro; or the Plan of a user who has Pro; or, for a user whose
        subscription Stripe still holds unpaid (past due, unpaid, incomplete, paused), what is
        wrong and the billing portal to fix it: never a second subscription.

        The subscription's state is read from Stripe, not taken from what we stored. A stored
        customer Stripe no longer has is forgotten and a new one made."""
        api = self._require()
        async with self.db.connection() as conn:
            account = await repo.account(conn, discord_id)
        customer = account.customer_id if account else None
        gone: str | None = None
        if customer is not None:
            change = await self.sync_customer(customer)
            if change is not None:
                await self.enqueue_notices(change.notices)
            if change is None or change.forgotten:  # Stripe no longer has it: a new one below
                gone, customer = customer, None
            else:
                plan = await self.plan(discord_id)
                if plan.tier == "pro":
                    return plan
                if plan.status in HELD:
                    return NeedsAttention(plan.status, await self.portal_url(plan))
        for _ in range(2):
            if customer is None:
                customer = await api.create_customer(discord_id, replacing=gone)
                async with self.db.transaction() as conn:
                    await ensure_user(conn, discord_id)
                    await repo.set_customer(conn, discord_id, customer)
            try:
                return Checkout(await self._open_session(api, discord_id, customer))
            except NoSuchCustomer:  # deleted at Stripe since (or the keys changed mode): a new one
                await self._forget(customer)
                gone, customer = customer, None
        raise StripeUnavailable("the customer was gone twice in a row")

    async def _open_session(self, api: StripeAPI, discord_id: int, customer: str) -> str:
        """The URL of an open Checkout Session. One key per customer and 10-minute window, so a
        double click makes one session; Stripe replays a key's first answer even once that
        session is complete or expired, so its state now is read, and a finished one is
        followed by a new session under a key derived from it (the same for every click)."""
        window = int(time.time() // CHECKOUT_REUSE_SECONDS)
        key = f"marquee-checkout-{customer}-{window}"
        for _ in range(5):
            session = await api.create_checkout(discord_id, customer, self._public_url, key)
            current = await api.checkout_session(session.id)
            if current.status == "open" and current.url:
                return current.url
            log.info("checkout session %s is %s; opening another", session.id, current.status)
            key = f"marquee-checkout-{customer}-{window}-after-{session.id}"
        raise StripeUnavailable("no open checkout session after five tries")

    async def plan(self, discord_id: int) -> Plan:
        async with self.db.connection() as conn:
            account = await repo.account(conn, discord_id)
        if account is None:
            return Plan("free", None, None, False)
        return _plan(account)

    async def portal_url(self, plan: Plan) -> str | None:
        """A billing portal link for a subscriber's plan; None for a plan with no subscription."""
        api = self._require()
        if plan.customer_id is None or not plan.has_subscription:
            return None
        try:
            return await api.portal_url(plan.customer_id, f"{self._public_url}/billing/success")
        except NoSuchCustomer:
            await self._forget(plan.customer_id)
            return None

    async def has_pro(self, discord_id: int) -> bool:
        """Whether the user pays for Pro; with billing off nobody does (see `require_pro`).
        With the database down, no (the AI quota then applies to them, as to everyone)."""
        if self.api is None:
            return False
        try:
            return (await self.plan(discord_id)).tier == "pro"
        except DatabaseUnavailable:
            log.warning("database down: user %d is treated as free", discord_id)
            return False

    async def require_pro(self, discord_id: int, command: str) -> None:
        """The Pro gate: open to everyone with billing off, else to those who pay for Pro."""
        if self.api is not None and (await self.plan(discord_id)).tier != "pro":
            raise ProRequired(command)

    # ------------------------------------------------------------------ syncing with Stripe
    async def sync_customer(self, customer_id: str) -> Change | None:
        """Read the customer's subscriptions from Stripe and write what they say now; None for a
        customer no user has. A customer Stripe no longer has is forgotten (`Change.forgotten`).
        A transaction of its own (see `apply_sync` to share one)."""
        async with self.customer_lock(customer_id), self.db.transaction() as conn:
            return await self.apply_sync(conn, customer_id)

    async def _forget(self, customer_id: str) -> None:
        """Forget a customer Stripe no longer has (its user then has no subscription)."""
        async with self.customer_lock(customer_id), self.db.transaction() as conn:
            account = await repo.account_by_customer(conn, customer_id, lock=True)
            change = None if account is None else await self._forget_in(conn, account)
        if change is not None:
            await self.enqueue_notices(change.notices)

    def customer_lock(self, customer_id: str) -> asyncio.Lock:
        """Syncs of one customer queue here before they take a connection (across processes
        the user's row lock orders them), so a burst for one user never drains the pool."""
        lock = self._customer_locks.get(customer_id)
        if lock is None:
            lock = self._customer_locks[customer_id] = asyncio.Lock()
        if len(self._customer_locks) > 10_000:
            self._customer_locks = {k: v for k, v in self._customer_locks.items() if v.locked()}
        return lock

    async def apply_sync(
        self, conn: asyncpg.Connection, customer_id: str, *, maybe_deleted: bool = False
    ) -> Change | None:
        """In `conn`'s transaction: lock the user, read Stripe, write the state, owe notices.
        A customer Stripe no longer has (`maybe_deleted`: a customer.deleted event says so, and
        Stripe is asked) is forgotten: the user has no subscription, and a later /upgrade makes
        a new customer."""
        api = self._require()
        account = await repo.account_by_customer(conn, customer_id, lock=True)
        if account is None:
            return None
        try:
            if maybe_deleted and await api.customer_gone(customer_id):
                return await self._forget_in(conn, account)
            current = current_subscription(await api.subscriptions(customer_id))
        except NoSuchCustomer:
            return await self._forget_in(conn, account)
        await _write(conn, account.discord_id, current)
        return await self._changed(conn, account, current)

    async def _forget_in(self, conn: asyncpg.Connection, account: repo.Account) -> Change:
        log.warning("user %d's Stripe customer is gone at Stripe; forgotten", account.discord_id)
        await _write(conn, account.discord_id, None)
        await repo.set_customer(conn, account.discord_id, None)
        return replace(await self._changed(conn, account, None), forgotten=True)

    async def _changed(self, conn: asyncpg.Connection, account: repo.Account, current: Subscription | None) -> Change:
        new_tier = "pro" if current is not None and current.grants_pro else "free"
        notices: tuple[int, ...] = ()
        if account.tier != new_tier:
            kind = "pro_started" if new_tier == "pro" else "pro_ended"
            # Each change of tier is announced once: this row lock makes each one happen once.
            notice = await outbox_repo.add_notice(
                conn, account.discord_id, kind, f"{kind}:{account.discord_id}:{time.time_ns()}"
            )
            notices = (notice,) if notice else ()
        return Change(
            account.discord_id, account.tier, new_tier, account.status, current.status if current else None, notices
        )

    async def enqueue_notices(self, notice_ids: list[int] | tuple[int, ...]) -> None:
        """Hand this change's DMs to the worker (the outbox: services/notices.py)."""
        await self._outbox.enqueue(notice_ids)

    async def reconcile(self, *, everyone: bool) -> list[Change]:
        """Re-read from Stripe the customers whose state may have drifted (all, with `everyone`)."""
        self._require()
        async with self.db.connection() as conn:
            customers = await repo.customers_to_reconcile(conn, everyone=everyone)
        changes = []
        for customer in customers:
            change = await self.sync_customer(customer)
            if change is not None and change.changed:
                log.info("reconciled %s", change.describe())
                changes.append(change)
        return changes


def _plan(account: repo.Account) -> Plan:
    return Plan(
        account.tier,
        account.status,
        account.period_end,
        account.cancel_at_period_end,
        account.customer_id,
        account.subscription_id,
    )


async def _write(conn: asyncpg.Connection, discord_id: int, current: Subscription | None) -> None:
    await repo.save_subscription(
        conn,
        discord_id,
        tier="pro" if current is not None and current.grants_pro else "free",
        subscription_id=current.id if current else None,
        status=current.status if current else None,
        period_end=current.current_period_end if current else None,
        cancel_at_period_end=current.cancel_at_period_end if current else False,
    )
