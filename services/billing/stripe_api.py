"""The Stripe calls Marquee makes, on the official client, returning typed values.

One `StripeClient` (async, over the process's aiohttp session), with a timeout per request and
the library's bounded retries (it adds an idempotency key to every retried POST). Stripe's
answers are told apart: only a time-out, a lost connection, a 429 or a 5xx is StripeUnavailable
(Stripe may answer later); a 4xx means our request or our record is wrong: StripeRefused, logged
with Stripe's request id, and NoSuchCustomer when the customer we stored is gone (deleted, or
made with the other mode's keys), which the caller mends. Never a traceback.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import aiohttp
import stripe

from services.errors import NoSuchCustomer, StripeRefused, StripeUnavailable

log = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10, connect=5)
RETRIES = 2
PRO_STATUSES = frozenset({"active", "trialing"})  # the only states that grant Pro
# Which of a customer's subscriptions speaks for them: one that grants Pro, then one that still
# may (awaiting payment), then the most recent of the rest.
_RANK = {"active": 0, "trialing": 0, "past_due": 1, "unpaid": 1, "incomplete": 1, "paused": 2}


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    customer: str
    status: str
    created: int
    current_period_end: datetime | None
    cancel_at_period_end: bool

    @property
    def grants_pro(self) -> bool:
        return self.status in PRO_STATUSES


def _subscription(obj: Any) -> Subscription:
    # Current API versions keep the billing period on the subscription's items, not on it.
    items = (obj.get("items") or {}).get("data") or []
    period_end = items[0].get("current_period_end") if items else None
    customer = obj.get("customer")
    return Subscription(
        id=str(obj["id"]),
        customer=str(customer.get("id") if isinstance(customer, dict) else customer),
        status=str(obj.get("status") or "unknown"),
        created=int(obj.get("created") or 0),
        current_period_end=datetime.fromtimestamp(period_end, UTC) if isinstance(period_end, int) else None,
        cancel_at_period_end=bool(obj.get("cancel_at_period_end")),
    )


@dataclass(frozen=True, slots=True)
class CheckoutSession:
    id: str
    status: str  # open, complete or expired
    url: str | None


def _session(obj: Any) -> CheckoutSession:
    return CheckoutSession(str(obj["id"]), str(obj.get("status") or "unknown"), obj.get("url"))


def current_subscription(subscriptions: list[Subscription]) -> Subscription | None:
    if not subscriptions:
        return None
    return min(subscriptions, key=lambda s: (_RANK.get(s.status, 3), -s.created))


class StripeAPI:
    def __init__(self, client: stripe.StripeClient, price_id: str) -> None:
        self._client = client
        self.price_id = price_id

    async def create_customer(self, discord_id: int, replacing: str | None = None) -> str:
        """A customer for the user, once per user at Stripe (the idempotency key); `replacing`
        a customer Stripe no longer has makes another key, so the gone one is not replayed."""
        key = f"marquee-customer-{discord_id}" + (f"-after-{replacing}" if replacing else "")
        customer = await self._call(
            "create a customer",
            self._client.v1.customers.create_async(
                params={"metadata": {"discord_id": str(discord_id)}, "description": f"Discord user {discord_id}"},
                options={"idempotency_key": key},
            ),
        )
        return str(customer.id)

    async def customer_gone(self, customer_id: str) -> bool:
        """Whether Stripe deleted the customer (or never had it under this key)."""
        try:
            customer = await self._call("read a customer", self._client.v1.customers.retrieve_async(customer_id))
        except NoSuchCustomer:
            return True
        return bool(customer.to_dict().get("deleted"))

    async def create_checkout(
        self, discord_id: int, customer_id: str, base_url: str, idempotency_key: str
    ) -> CheckoutSession:
        """A Checkout Session for Pro. Under a key already used, Stripe replays the first answer:
        the session as it was then, whatever it is now (see `checkout_session`)."""
        session = await self._call(
            "create a checkout session",
            self._client.v1.checkout.sessions.create_async(
                params={
                    "mode": "subscription",
                    "customer": customer_id,
                    "client_reference_id": str(discord_id),
                    "line_items": [{"price": self.price_id, "quantity": 1}],
                    "metadata": {"discord_id": str(discord_id)},
                    "subscription_data": {"metadata": {"discord_id": str(discord_id)}},
                    "success_url": f"{base_url}/billing/success?session_id={{CHECKOUT_SESSION_ID}}",
                    "cancel_url": f"{base_url}/billing/cancel",
                },
                options={"idempotency_key": idempotency_key},
            ),
        )
        return _session(session.to_dict())

    async def checkout_session(self, session_id: str) -> CheckoutSession:
        """A Checkout Session as it is now (open, complete or expired)."""
        session = await self._call(
            "read a checkout session", self._client.v1.checkout.sessions.retrieve_async(session_id)
        )
        return _session(session.to_dict())

    async def portal_url(self, customer_id: str, return_url: str) -> str:
        portal = await self._call(
            "create a billing portal session",
            self._client.v1.billing_portal.sessions.create_async(
                params={"customer": customer_id, "return_url": return_url}
            ),
        )
        return str(portal.url)

    async def subscriptions(self, customer_id: str) -> list[Subscription]:
        """Every subscription of a customer, as Stripe has them now."""
        listing = await self._call(
            "list subscriptions",
            self._client.v1.subscriptions.list_async(params={"customer": customer_id, "status": "all", "limit": 20}),
        )
        return [_subscription(obj.to_dict()) for obj in listing.data]

    async def price(self) -> dict[str, Any]:
        price = await self._call("read the price", self._client.v1.prices.retrieve_async(self.price_id))
        return {"id": price.id, "active": price.active}

    async def _call(self, what: str, call: Any) -> Any:
        try:
            return await call
        except (stripe.APIConnectionError, stripe.RateLimitError) as exc:
            raise StripeUnavailable(f"could not {what}: {type(exc).__name__}") from exc
        except stripe.StripeError as exc:
            status = exc.http_status or 0
            if status >= 500 or status == 0:
                raise StripeUnavailable(f"could not {what}: HTTP {status}") from exc
            if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
                log.error("Stripe refused STRIPE_SECRET_KEY (could not %s; request %s)", what, exc.request_id)
                raise StripeRefused(what, status, exc.request_id) from exc
            if exc.code == "resource_missing" and (
                getattr(exc, "param", None) == "customer" or "No such customer" in str(exc.user_message or "")
            ):
                log.warning("Stripe has no such customer (could not %s; request %s)", what, exc.request_id)
                raise NoSuchCustomer(what, status, exc.request_id) from exc
            log.error("Stripe refused to %s: HTTP %d %s (request %s)", what, status, exc.code or "", exc.request_id)
            raise StripeRefused(what, status, exc.request_id) from exc


def open_stripe(secret_key: str, api_base: str | None, session: aiohttp.ClientSession) -> stripe.StripeClient:
    http_client = stripe.AIOHTTPClient(timeout=TIMEOUT, session=session)
    return stripe.StripeClient(
        secret_key,
        base_addresses={"api": api_base.rstrip("/")} if api_base else None,
        max_network_retries=RETRIES,
        http_client=http_client,
    )
