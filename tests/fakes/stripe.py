"""A fake of the parts of Stripe's API Marquee uses, on 127.0.0.1, for the official stripe client
(pointed at it with STRIPE_API_BASE), and the events it would send, signed the way Stripe signs.

Like Stripe: form-encoded requests with nested keys (`line_items[0][price]`), bearer secret keys,
Stripe's JSON and error shapes, idempotency keys (a repeat returns the first answer; the same key
with other parameters is an `idempotency_error`), lists as `{"object": "list", "data": ...}`,
current API objects (a subscription's period lives on its items; an invoice names its
subscription under `parent.subscription_details`). Knobs: `fail()` and `latency`.

The test drives what a customer does at Stripe (`complete_checkout`, `set_status`, `cancel`,
`fail_payment`), or an operator in the dashboard (`delete_customer`, `expire_session`); each
returns the events Stripe would send, and `signed()` signs one. As at Stripe, a key's replay is
the first answer as it was (a session "open" though it has been paid since), marked
`Idempotent-Replayed: true`; a customer that was deleted (or never existed under these keys) is
`resource_missing` "No such customer" on every call that names it.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.server import Fault, LoopbackServer, take

API_VERSION = "2026-10-28.endive"
MONTH = 30 * 24 * 3600


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's nested form keys (`a[b][0][c]=v`) as dicts (lists as dicts keyed by index)."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node = root
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return root


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A `Stripe-Signature` header: t=<unix time>,v1=HMAC-SHA256(secret, "t.payload")."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


@dataclass
class FakeStripe(LoopbackServer):
    secret_key: str = "sk_test_fake_secret"
    webhook_secret: str = "whsec_fake_webhook_secret"
    price_id: str = "price_pro_monthly"
    latency: float = 0.0
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: dict[str, dict[str, Any]] = field(default_factory=dict)
    subscriptions: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)
    _faults: list[Fault] = field(default_factory=list)
    _idempotent: dict[str, tuple[str, web.Response]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """The settings that point Marquee's billing at this fake, as environment variables."""
        return {
            "STRIPE_SECRET_KEY": self.secret_key,
            "STRIPE_WEBHOOK_SECRET": self.webhook_secret,
            "STRIPE_PRO_PRICE_ID": self.price_id,
            "STRIPE_API_BASE": self.base_url,
        }

    def fail(self, status: int, times: int = 1) -> None:
        self._faults.append(Fault(status, times))

    def posts(self, path: str) -> list[dict[str, Any]]:
        return [params for method, p, params in self.requests if method == "POST" and p == path]

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_{next(self._ids):06d}"

    # ------------------------------------------------------------------ what customers do at Stripe
    def complete_checkout(self, session_id: str, status: str = "active") -> list[dict[str, Any]]:
        """The customer pays: a subscription, and the events Stripe sends for it."""
        session = self.sessions[session_id]
        now = int(time.time())
        sub_id = self.new_id("sub")
        self.subscriptions[sub_id] = {
            "id": sub_id,
            "object": "subscription",
            "customer": session["customer"],
            "status": status,
            "created": now,
            "cancel_at_period_end": False,
            "canceled_at": None,
            "metadata": session.get("metadata", {}),
            "items": {
                "object": "list",
                "data": [
                    {
                        "id": self.new_id("si"),
                        "object": "subscription_item",
                        "current_period_start": now,
                        "current_period_end": now + MONTH,
                        "price": {"id": self.price_id, "object": "price"},
                    }
                ],
            },
        }
        session.update(status="complete", subscription=sub_id, payment_status="paid")
        return [
            self.event("checkout.session.completed", session),
            self.event("customer.subscription.created", self.subscriptions[sub_id]),
            self.event("invoice.paid", self.invoice(sub_id, "paid")),
        ]

    def set_status(self, sub_id: str, status: str, **changes: Any) -> dict[str, Any]:
        self.subscriptions[sub_id].update(status=status, **changes)
        return self.event("customer.subscription.updated", self.subscriptions[sub_id])

    def delete_customer(self, customer_id: str) -> list[dict[str, Any]]:
        """Deleted in the dashboard: its subscriptions end at once; the events Stripe sends."""
        events = [self.cancel(s["id"]) for s in self.live_subscriptions(customer_id)]
        self.customers[customer_id] = {"id": customer_id, "object": "customer", "deleted": True}
        return [*events, self.event("customer.deleted", {**self.customers[customer_id], "deleted": True})]

    def expire_session(self, session_id: str) -> None:
        self.sessions[session_id].update(status="expired", url=None)

    def live_subscriptions(self, customer_id: str) -> list[dict[str, Any]]:
        ended = ("canceled", "incomplete_expired")
        return [s for s in self.subscriptions.values() if s["customer"] == customer_id and s["status"] not in ended]

    def cancel(self, sub_id: str) -> dict[str, Any]:
        self.subscriptions[sub_id].update(status="canceled", canceled_at=int(time.time()))
        return self.event("customer.subscription.deleted", self.subscriptions[sub_id])

    def fail_payment(self, sub_id: str) -> list[dict[str, Any]]:
        invoice = self.invoice(sub_id, "open")
        return [self.event("invoice.payment_failed", invoice), self.set_status(sub_id, "past_due")]

    def lifecycle(self, session_id: str, *, cancelled: bool) -> list[dict[str, Any]]:
        """A customer's whole story: checkout, a failed payment, paid again, then cancelled or not."""
        events = self.complete_checkout(session_id)
        sub_id = events[1]["data"]["object"]["id"]
        events += self.fail_payment(sub_id)
        events.append(self.set_status(sub_id, "active"))
        if cancelled:
            events.append(self.cancel(sub_id))
        return events

    def invoice(self, sub_id: str, status: str) -> dict[str, Any]:
        return {
            "id": self.new_id("in"),
            "object": "invoice",
            "customer": self.subscriptions[sub_id]["customer"],
            "status": status,
            "parent": {"type": "subscription_details", "subscription_details": {"subscription": sub_id}},
        }

    def event(self, event_type: str, obj: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": self.new_id("evt"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": json.loads(json.dumps(obj))},  # a snapshot, as Stripe sends
        }

    def signed(
        self, event: dict[str, Any], timestamp: int | None = None, secret: str | None = None
    ) -> tuple[bytes, str]:
        body = json.dumps(event).encode()
        return body, signature(body, secret or self.webhook_secret, timestamp)

    # ------------------------------------------------------------------ the API
    def routes(self, app: web.Application) -> None:
        app.router.add_route("*", "/v1/{path:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if request.headers.get("Authorization") != f"Bearer {self.secret_key}":
            return _error(401, "invalid_request_error", "Invalid API Key provided: sk_test_****")
        path = "/" + request.match_info["path"]
        pairs = list((await request.post()).items()) if request.method == "POST" else list(request.query.items())
        params = parse_form([(k, str(v)) for k, v in pairs])
        self.requests.append((request.method, path, params))
        if fault := take(self._faults):
            return _error(fault.status, "api_error", "An unknown error occurred")
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key:
            fingerprint = json.dumps([path, params], sort_keys=True)
            if key in self._idempotent:
                first, response = self._idempotent[key]
                if first != fingerprint:
                    return _error(
                        400,
                        "idempotency_error",
                        "Keys for idempotent requests can only be used with the same parameters they were first "
                        "used with.",
                    )
                return web.json_response(
                    json.loads(response.text or "{}"), status=response.status, headers={"Idempotent-Replayed": "true"}
                )
            response = self._route(request.method, path, params)
            self._idempotent[key] = (fingerprint, response)
            return response
        return self._route(request.method, path, params)

    def _no_such_customer(self, customer: Any) -> web.Response | None:
        if customer in self.customers and not self.customers[customer].get("deleted"):
            return None
        return _error(
            400, "invalid_request_error", f"No such customer: '{customer}'", param="customer", code="resource_missing"
        )

    def _route(self, method: str, path: str, params: dict[str, Any]) -> web.Response:
        for prefix, store, name in (
            ("/customers/", self.customers, "customer"),
            ("/checkout/sessions/", self.sessions, "checkout.session"),
        ):
            if method == "GET" and path.startswith(prefix):
                stored = store.get(path.removeprefix(prefix))
                if stored is None:
                    message = f"No such {name}: '{path.removeprefix(prefix)}'"
                    return _error(404, "invalid_request_error", message, param="id", code="resource_missing")
                return web.json_response(stored)
        if method == "POST" and path == "/customers":
            customer = {"id": self.new_id("cus"), "object": "customer", "metadata": params.get("metadata", {})}
            customer["description"] = params.get("description")
            self.customers[customer["id"]] = customer
            return web.json_response(customer)
        if method == "POST" and path == "/checkout/sessions":
            if missing := self._no_such_customer(params.get("customer")):
                return missing
            if (params.get("line_items") or {}).get("0", {}).get("price") != self.price_id:
                return _error(400, "invalid_request_error", "No such price", param="line_items[0][price]")
            session_id = self.new_id("cs_test")
            session = {
                "id": session_id,
                "object": "checkout.session",
                "mode": params.get("mode"),
                "customer": params["customer"],
                "client_reference_id": params.get("client_reference_id"),
                "metadata": params.get("metadata", {}),
                "success_url": params.get("success_url"),
                "cancel_url": params.get("cancel_url"),
                "status": "open",
                "subscription": None,
                "url": f"https://checkout.stripe.com/c/pay/{session_id}",
            }
            self.sessions[session_id] = session
            return web.json_response(session)
        if method == "POST" and path == "/billing_portal/sessions":
            if missing := self._no_such_customer(params.get("customer")):
                return missing
            portal_id = self.new_id("bps")
            return web.json_response(
                {
                    "id": portal_id,
                    "object": "billing_portal.session",
                    "customer": params["customer"],
                    "url": f"https://billing.stripe.com/p/session/{portal_id}",
                }
            )
        if method == "GET" and path == "/subscriptions":
            if missing := self._no_such_customer(params.get("customer")):
                return missing
            found = [s for s in self.subscriptions.values() if s["customer"] == params.get("customer")]
            if params.get("status") != "all":
                found = [s for s in found if s["status"] not in ("canceled", "incomplete_expired")]
            found.sort(key=lambda s: -s["created"])
            return web.json_response({"object": "list", "data": found, "has_more": False, "url": "/v1/subscriptions"})
        if method == "GET" and path.startswith("/prices/"):
            price_id = path.removeprefix("/prices/")
            if price_id != self.price_id:
                return _error(404, "invalid_request_error", f"No such price: '{price_id}'", code="resource_missing")
            return web.json_response({"id": price_id, "object": "price", "active": True, "type": "recurring"})
        return _error(404, "invalid_request_error", f"Unrecognized request URL ({method}: /v1{path}).")


def _error(status: int, kind: str, message: str, *, param: str | None = None, code: str | None = None) -> web.Response:
    body: dict[str, Any] = {"type": kind, "message": message}
    if param:
        body["param"] = param
    if code:
        body["code"] = code
    return web.json_response({"error": body}, status=status, headers={"Request-Id": "req_fake"})
