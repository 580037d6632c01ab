"""POST /webhooks/stripe: signed events, each applied exactly once, in any order.

- The signature is checked on the raw bytes (`stripe.Webhook.construct_event`, which also
  rejects timestamps more than 5 minutes old); a timestamp more than 5 minutes in the future is
  rejected too. Anything unverified is a 4xx and writes nothing.
- One transaction records the event id and applies its effect: a duplicate, even one arriving
  at the same moment, finds the id taken and changes nothing. Whatever fails (the database, a
  Stripe read) rolls the whole event back and answers 5xx, so Stripe sends it again.
- An event is only a sign that a customer changed: its effect is to read that customer's
  subscriptions from Stripe and store what they say now (see BillingService).
- DMs are notices written in the same transaction and sent by the worker after the commit.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import stripe
from aiohttp import web

from services.billing.service import BillingService
from services.db import billing as repo
from services.errors import DatabaseUnavailable, StripeUnavailable
from services.metrics import Metrics

log = logging.getLogger(__name__)

TOLERANCE = 300  # seconds, either way
SUBSCRIPTION_EVENTS = {
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
    "invoice.paid",
    "invoice.payment_failed",
}


def _customer(obj: dict[str, Any]) -> str | None:
    customer = obj.get("customer")
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


class StripeWebhook:
    def __init__(self, billing: BillingService, secret: str, metrics: Metrics) -> None:
        self._billing = billing
        self._secret = secret
        self._metrics = metrics

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
            event = stripe.Webhook.construct_event(payload, header, self._secret, tolerance=TOLERANCE)
        except stripe.SignatureVerificationError:
            return web.json_response({"error": "bad signature"}, status=400), "rejected"
        except ValueError:  # signed, but not JSON (or not an event)
            return web.json_response({"error": "not an event"}, status=400), "rejected"
        if _future(header):
            return web.json_response({"error": "timestamp in the future"}, status=400), "rejected"
        data = event.to_dict()
        event_id, event_type = data.get("id"), data.get("type")
        obj = (data.get("data") or {}).get("object")
        if not isinstance(event_id, str) or not isinstance(event_type, str) or not isinstance(obj, dict):
            return web.json_response({"error": "not an event"}, status=400), "rejected"
        try:
            outcome, notices = await self.apply(event_id, event_type, obj)
        except (DatabaseUnavailable, StripeUnavailable) as exc:
            log.warning("stripe event %s not applied (%s); Stripe will retry", event_id, exc)
            return web.json_response({"error": "try again"}, status=503), "retry"
        await self._billing.enqueue_notices(notices)  # after the commit: the worker sends them
        log.info("stripe event %s %s: %s", event_id, event_type, outcome)
        return web.json_response({"received": True, "outcome": outcome}), outcome

    async def apply(self, event_id: str, event_type: str, obj: dict[str, Any]) -> tuple[str, list[int]]:
        """Record and apply one event in one transaction; (what it did, notices to send)."""
        customer = _customer(obj)
        if customer is None or (event_type not in SUBSCRIPTION_EVENTS and event_type != "checkout.session.completed"):
            return await self._record_only(event_id, event_type, "ignored"), []
        async with self._billing.customer_lock(customer), self._billing.db.transaction() as conn:
            if not await repo.record_event(conn, event_id, event_type):
                return "duplicate", []
            account = await repo.account_by_customer(conn, customer)
            outcome = "applied"
            if account is None:
                outcome = "ignored: unknown customer"
            elif event_type == "checkout.session.completed" and obj.get("client_reference_id") != str(
                account.discord_id
            ):
                # Only the user who started this checkout (whose customer it is) can be linked.
                outcome = "ignored: the checkout is not that customer's"
            notices: list[int] = []
            if outcome == "applied":
                change = await self._billing.apply_sync(conn, customer)
                if event_type == "invoice.payment_failed" and change is not None:
                    notice = await repo.add_notice(
                        conn, change.discord_id, "payment_failed", f"payment_failed:{obj.get('id')}"
                    )
                    notices += [notice] if notice else []
                notices += list(change.notices) if change else []
            await repo.set_event_outcome(conn, event_id, outcome)
        return outcome, notices

    async def _record_only(self, event_id: str, event_type: str, outcome: str) -> str:
        async with self._billing.db.transaction() as conn:
            if not await repo.record_event(conn, event_id, event_type):
                return "duplicate"
            await repo.set_event_outcome(conn, event_id, outcome)
        return outcome
