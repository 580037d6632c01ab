"""POST /webhooks/stripe: signed events, each applied exactly once, in any order.

- The signature is checked on the raw bytes by the stripe library (`WebhookSignature.verify_header`,
  which is what `Webhook.construct_event` runs, and which rejects timestamps more than 5 minutes
  old); a timestamp more than 5 minutes in the future is rejected too. Anything unverified is a
  4xx and writes nothing.
- One transaction records the event id and applies its effect: a duplicate, even one arriving
  at the same moment, finds the id taken and changes nothing. Whatever fails (the database, a
  Stripe read) rolls the whole event back and answers 5xx, so Stripe sends it again.
- An event is only a sign that a customer changed: its effect is to read that customer's
  subscriptions from Stripe and store what they say now (see BillingService).
- DMs are notices written in the same transaction and sent by the worker after the commit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg
import stripe
from aiohttp import web

from services.billing.service import BillingService
from services.db import billing as repo
from services.db import notices as outbox_repo
from services.errors import DatabaseUnavailable, StripeRefused, StripeUnavailable
from services.metrics import Metrics

log = logging.getLogger(__name__)

TOLERANCE = 300  # seconds, either way
DRAIN_SECONDS = 10.0
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
}
CUSTOMER_DELETED = "customer.deleted"  # deleted at Stripe: forgotten (its subscriptions end with it)


def _customer(event_type: str, obj: dict[str, Any]) -> str | None:
    customer = obj.get("id") if event_type == CUSTOMER_DELETED else obj.get("customer")
    if isinstance(customer, dict):
        customer = customer.get("id")
    return customer if isinstance(customer, str) and customer.startswith("cus_") else None


def _future(header: str | None) -> bool:
    """Whether the signature's timestamp is more than TOLERANCE ahead of us (the library only
    checks the past)."""
    for part in (header or "").split(","):
        key, _, value = part.partition("=")
        if key.strip() == "t":
            try:
                return int(value) > time.time() + TOLERANCE
            except ValueError:
                return False
    return False


@dataclass
class Arrival:
    event_id: str
    event_type: str
    obj: dict[str, Any]
    result: asyncio.Future[tuple[str, list[int]]]


class StripeWebhook:
    def __init__(self, billing: BillingService, secret: str, metrics: Metrics) -> None:
        self._billing = billing
        self._secret = secret
        self._metrics = metrics
        self._waiting: dict[str, list[Arrival]] = {}  # per customer, events not yet taken up
        self._flushes: set[asyncio.Task[None]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        started = time.perf_counter()
        response, outcome = await self._handle(request)
        self._metrics.stripe_events.labels(outcome.split(":")[0]).inc()
        self._metrics.webhook_latency.observe(time.perf_counter() - started)
        return response

    async def _handle(self, request: web.Request) -> tuple[web.Response, str]:
        payload = await request.read()  # the app refuses bodies over 1 MiB (413)
        header = request.headers.get("Stripe-Signature")
        try:
            # The library's own check (HMAC of "t.payload", past tolerance); the event is then read
            # as plain JSON, which is all we use of it.
            stripe.WebhookSignature.verify_header(payload.decode("utf-8"), header, self._secret, TOLERANCE)
            data = json.loads(payload)
        except stripe.SignatureVerificationError:
            return web.json_response({"error": "bad signature"}, status=400), "rejected"
        except ValueError:  # signed, but not UTF-8 JSON
            return web.json_response({"error": "not an event"}, status=400), "rejected"
        if _future(header):
            return web.json_response({"error": "timestamp in the future"}, status=400), "rejected"
        if not isinstance(data, dict):
            return web.json_response({"error": "not an event"}, status=400), "rejected"
        event_id, event_type = data.get("id"), data.get("type")
        obj = (data.get("data") or {}).get("object")
        if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
            return web.json_response({"error": "not an event"}, status=400), "rejected"
        try:
            outcome, notices = await self.apply(event_id, event_type, obj)
        except (DatabaseUnavailable, StripeUnavailable, StripeRefused) as exc:
            log.warning("stripe event %s not applied (%s); Stripe will retry", event_id, exc)
            return web.json_response({"error": "try again"}, status=503), "retry"
        await self._billing.enqueue_notices(notices)  # after the commit: the worker sends them
        log.info("stripe event %s %s: %s", event_id, event_type, outcome)
        return web.json_response({"received": True, "outcome": outcome}), outcome

    async def apply(self, event_id: str, event_type: str, obj: dict[str, Any]) -> tuple[str, list[int]]:
        """Record and apply one event; (what it did, notices to send once committed).

        Events of one customer that arrive while that customer is being synced wait, then go
        together: one transaction records each of their ids and applies them with one read
        of Stripe (which is all any of them asks for). If it fails, all of them fail (5xx).
        """
        customer = _customer(event_type, obj)
        handled = SUBSCRIPTION_EVENTS | {"checkout.session.completed", CUSTOMER_DELETED}
        if customer is None or event_type not in handled:
            return await self._record_only(event_id, event_type, "ignored"), []
        waiting = self._waiting.setdefault(customer, [])
        arrival = Arrival(event_id, event_type, obj, asyncio.get_running_loop().create_future())
        waiting.append(arrival)
        if len(waiting) == 1:
            flush = asyncio.create_task(self._apply_waiting(customer), name=f"stripe-sync:{customer}")
            self._flushes.add(flush)
            flush.add_done_callback(self._flushes.discard)
        return await asyncio.shield(arrival.result)

    async def drain(self, app: web.Application | None = None) -> None:
        """At shutdown: let the events already taken up finish (bounded), so each is applied or
        rolled back whole and its sender answered."""
        if self._flushes:
            await asyncio.wait(set(self._flushes), timeout=DRAIN_SECONDS)

    async def _apply_waiting(self, customer: str) -> None:
        async with self._billing.customer_lock(customer):
            batch = self._waiting.pop(customer, [])
            try:
                results = await self._apply_batch(customer, batch)
            except BaseException as exc:
                for arrival in batch:
                    if not arrival.result.done():
                        arrival.result.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                return
        for arrival, result in zip(batch, results, strict=True):
            arrival.result.set_result(result)

    async def _apply_batch(self, customer: str, batch: list[Arrival]) -> list[tuple[str, list[int]]]:
        async with self._billing.db.transaction() as conn:
            account = await repo.account_by_customer(conn, customer)  # one read for the whole batch
            outcomes = [await self._admit(conn, account, arrival) for arrival in batch]
            results: list[tuple[str, list[int]]] = [(outcome, []) for outcome in outcomes]
            applied = [i for i, outcome in enumerate(outcomes) if outcome == "applied"]
            if applied:
                deleted = any(batch[i].event_type == CUSTOMER_DELETED for i in applied)
                change = await self._billing.apply_sync(conn, customer, maybe_deleted=deleted)
                if change is not None:
                    results[applied[-1]][1].extend(change.notices)
                    for i in applied:
                        arrival = batch[i]
                        if arrival.event_type == "invoice.payment_failed":
                            key = f"payment_failed:{arrival.obj.get('id')}"
                            if notice := await outbox_repo.add_notice(conn, change.discord_id, "payment_failed", key):
                                results[i][1].append(notice)
            for arrival, (outcome, _) in zip(batch, results, strict=True):
                if outcome != "duplicate":
                    await repo.set_event_outcome(conn, arrival.event_id, outcome)
        return results

    async def _admit(self, conn: asyncpg.Connection, account: repo.Account | None, arrival: Arrival) -> str:
        """Record the event's id; what it may do: applied, duplicate or ignored (and why)."""
        if not await repo.record_event(conn, arrival.event_id, arrival.event_type):
            return "duplicate"
        if account is None:
            return "ignored: unknown customer"
        checkout = arrival.event_type == "checkout.session.completed"
        if checkout and arrival.obj.get("client_reference_id") != str(account.discord_id):
            # Only the user who started this checkout (whose customer it is) can be linked.
            return "ignored: the checkout is not that customer's"
        return "applied"

    async def _record_only(self, event_id: str, event_type: str, outcome: str) -> str:
        async with self._billing.db.transaction() as conn:
            if not await repo.record_event(conn, event_id, event_type):
                return "duplicate"
            await repo.set_event_outcome(conn, event_id, outcome)
        return outcome
