"""The webhook receiver under attack and under faults: what is not Stripe's changes nothing;
every real event is applied exactly once, whatever the order or the number of copies."""

from __future__ import annotations

import asyncio
import io
import json
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.billing.service import Checkout
from services.config import Settings
from tests.billing_env import Billing, billing_loop
from tests.fakes.stripe import FakeStripe, signature


@pytest.fixture
async def loop(settings: Settings, stripe_api: FakeStripe) -> AsyncIterator[Billing]:
    async with billing_loop(settings, stripe_api) as running:
        yield running


async def customer_of(loop: Billing, discord_id: int) -> str:
    """A user who ran /upgrade: known to us, with a Stripe customer and an open checkout."""
    result = await loop.services.billing.checkout(discord_id)
    assert isinstance(result, Checkout)
    async with loop.services.db.connection() as conn:
        return str(await conn.fetchval("SELECT stripe_customer_id FROM users WHERE discord_id = $1", discord_id))


def session_of(stripe_api: FakeStripe, customer: str) -> str:
    return next(s["id"] for s in stripe_api.sessions.values() if s["customer"] == customer)


async def written(loop: Billing) -> tuple[int, int]:
    async with loop.services.db.connection() as conn:
        events = await conn.fetchval("SELECT count(*) FROM stripe_events")
        notices = await conn.fetchval("SELECT count(*) FROM notices")
    return int(events), int(notices)


async def test_what_stripe_did_not_sign_is_refused_and_writes_nothing(loop: Billing, stripe_api: FakeStripe) -> None:
    customer = await customer_of(loop, 1)
    event = stripe_api.complete_checkout(session_of(stripe_api, customer))[0]
    body, good = stripe_api.signed(event)
    now = int(time.time())
    cases = {
        "unsigned": (body, None),
        "tampered": (body.replace(b'"1"', b'"2"'), good),
        "wrong secret": stripe_api.signed(event, secret="whsec_someone_else"),
        # Past the 5 minutes either way, with room for the time the cases before take to post
        # (301 flaked on a slow CI run: a second had gone by when "future" was posted).
        "stale": stripe_api.signed(event, timestamp=now - 330),
        "future": stripe_api.signed(event, timestamp=now + 330),
        "garbage header": (body, "t=abc,v1=nothing"),
        "signed, not JSON": (b"not json", signature(b"not json", stripe_api.webhook_secret)),
    }
    for name, (payload, header) in cases.items():
        status, _ = await loop.post(payload, header)
        assert 400 <= status < 500, name
    async with loop.http.post(f"{loop.url}/webhooks/stripe", data=io.BytesIO(b"x" * (1024 * 1024 + 1))) as resp:
        assert resp.status == 413
    async with loop.http.get(f"{loop.url}/webhooks/stripe") as resp:
        assert resp.status == 405
    assert await written(loop) == (0, 0)
    assert await loop.tier(1) == "free"


async def test_a_forged_or_foreign_checkout_links_nothing(loop: Billing, stripe_api: FakeStripe) -> None:
    customer = await customer_of(loop, 1)
    await customer_of(loop, 2)
    completed = stripe_api.complete_checkout(session_of(stripe_api, customer))[0]
    for reference in ("2", "999", "'; DROP TABLE users; --"):
        forged = json.loads(json.dumps(completed))
        forged["id"] = stripe_api.new_id("evt")
        forged["data"]["object"]["client_reference_id"] = reference
        status, body = await loop.post(*stripe_api.signed(forged))
        assert status == 200 and body["outcome"].startswith("ignored")
    unknown = stripe_api.event("customer.subscription.created", {"id": "sub_x", "customer": "cus_nobody"})
    status, body = await loop.post(*stripe_api.signed(unknown))
    assert status == 200 and body["outcome"] == "ignored: unknown customer"
    other = stripe_api.event("charge.refunded", {"id": "ch_1", "customer": customer})
    assert (await loop.post(*stripe_api.signed(other)))[1]["outcome"] == "ignored"
    assert await loop.tier(1) == "free" and await loop.tier(2) == "free"


async def test_the_same_event_ten_times_in_a_row_and_at_once_applies_once(
    loop: Billing, stripe_api: FakeStripe
) -> None:
    customer = await customer_of(loop, 1)
    events = stripe_api.complete_checkout(session_of(stripe_api, customer))
    first = stripe_api.signed(events[1])
    outcomes = [(await loop.post(*first))[1]["outcome"] for _ in range(10)]
    assert outcomes == ["applied"] + ["duplicate"] * 9
    second = stripe_api.signed(events[2])
    answers = await asyncio.gather(*(loop.post(*second) for _ in range(10)))
    assert [status for status, _ in answers] == [200] * 10
    assert sorted(body["outcome"] for _, body in answers) == ["applied"] + ["duplicate"] * 9
    assert await written(loop) == (2, 1)  # two events; one "you're Pro" notice
    assert await loop.tier(1) == "pro"


@pytest.mark.parametrize("seed", range(6))
async def test_any_order_of_a_lifecycle_ends_on_stripes_state(loop: Billing, stripe_api: FakeStripe, seed: int) -> None:
    customer = await customer_of(loop, 1)
    events = stripe_api.complete_checkout(session_of(stripe_api, customer))
    sub_id = next(iter(stripe_api.subscriptions))
    events += stripe_api.fail_payment(sub_id)
    events.append(stripe_api.set_status(sub_id, "active"))
    final = stripe_api.cancel(sub_id) if seed % 2 else stripe_api.set_status(sub_id, "active")
    events.append(final)
    random.Random(seed).shuffle(events)
    assert await loop.send(*events) == [200] * len(events)
    assert await loop.tier(1) == ("free" if seed % 2 else "pro")
    async with loop.services.db.connection() as conn:
        status = await conn.fetchval("SELECT subscription_status FROM users WHERE discord_id = 1")
    assert status == ("canceled" if seed % 2 else "active")


async def test_database_down_is_a_5xx_and_the_retry_applies_once(settings: Settings, stripe_api: FakeStripe) -> None:
    from pydantic import SecretStr

    from tests.conftest import _pg_target, _through
    from tests.fakes.proxy import CuttableProxy

    assert settings.database_url is not None
    pg = await CuttableProxy(**_pg_target(settings.database_url.get_secret_value())).start()
    proxied = settings.model_copy(
        update={"database_url": SecretStr(_through(settings.database_url.get_secret_value(), pg.port))}
    )
    try:
        async with billing_loop(proxied, stripe_api) as loop:
            customer = await customer_of(loop, 1)
            event = stripe_api.complete_checkout(session_of(stripe_api, customer))[1]
            pg.sever()
            status, _ = await loop.post(*stripe_api.signed(event))
            assert status == 503
            pg.restore()
            status, body = await loop.post(*stripe_api.signed(event))  # Stripe's retry
            assert (status, body["outcome"]) == (200, "applied")
            assert (await loop.post(*stripe_api.signed(event)))[1]["outcome"] == "duplicate"
            assert await loop.tier(1) == "pro" and await written(loop) == (1, 1)
    finally:
        pg.restore()
        await pg.stop()


async def test_stripe_down_during_a_webhook_is_a_5xx_and_nothing_is_recorded(
    loop: Billing, stripe_api: FakeStripe
) -> None:
    customer = await customer_of(loop, 1)
    event = stripe_api.complete_checkout(session_of(stripe_api, customer))[1]
    stripe_api.fail(500, times=3)  # the client's first try and both retries
    assert (await loop.post(*stripe_api.signed(event)))[0] == 503
    assert await written(loop) == (0, 0)
    assert (await loop.post(*stripe_api.signed(event)))[1]["outcome"] == "applied"


async def test_a_lost_cancellation_is_repaired_by_reconciliation(loop: Billing, stripe_api: FakeStripe) -> None:
    customer = await customer_of(loop, 1)
    await loop.send(*stripe_api.complete_checkout(session_of(stripe_api, customer)))
    assert await loop.tier(1) == "pro"
    sub_id = next(iter(stripe_api.subscriptions))
    stripe_api.cancel(sub_id)  # customer.subscription.deleted never arrives
    stripe_api.subscriptions[sub_id]["items"]["data"][0]["current_period_end"] = int(time.time()) - 60
    async with loop.services.db.transaction() as conn:
        await conn.execute("UPDATE users SET current_period_end = now() - interval '1 minute'")
    changes = await loop.services.billing.reconcile(everyone=False)
    assert [c.describe() for c in changes] == ["user 1: pro (active) -> free (canceled)"]
    assert await loop.tier(1) == "free"
    assert await loop.services.billing.reconcile(everyone=True) == []  # nothing else drifted


async def test_a_burst_of_500_shuffled_events_with_duplicates(loop: Billing, stripe_api: FakeStripe) -> None:
    expected: dict[int, str] = {}
    events: list[dict[str, Any]] = []
    for user in range(1, 51):
        customer = await customer_of(loop, user)
        events += stripe_api.lifecycle(session_of(stripe_api, customer), cancelled=user % 3 == 0)
        expected[user] = "free" if user % 3 == 0 else "pro"
    copies = events + random.Random(7).sample(events, max(len(events) // 3, 500 - len(events)))
    assert len(copies) >= 500
    random.Random(8).shuffle(copies)
    answers = await asyncio.gather(*(loop.post(*stripe_api.signed(e)) for e in copies))
    assert all(status == 200 for status, _ in answers), {s for s, _ in answers}
    outcomes = [body["outcome"] for _, body in answers]
    assert outcomes.count("applied") == len(events) and outcomes.count("duplicate") == len(copies) - len(events)
    assert {user: await loop.tier(user) for user in expected} == expected
    async with loop.services.db.connection() as conn:
        per_user = await conn.fetch("SELECT discord_id, kind, count(*) AS n FROM notices GROUP BY discord_id, kind")
    payment_failed = {r["discord_id"]: r["n"] for r in per_user if r["kind"] == "payment_failed"}
    assert payment_failed == {user: 1 for user in expected}  # one DM per failed invoice, never per copy
    assert all(r["n"] <= 3 for r in per_user)  # changes of tier, never copies


async def test_a_stop_mid_webhook_finishes_the_event_and_answers_it(settings: Settings, stripe_api: FakeStripe) -> None:
    import aiohttp

    from services.runtime import open_services
    from services.web import serve_web
    from tests.billing_env import billing_settings
    from tests.conftest import TEST_RETRY

    async with open_services(billing_settings(settings, stripe_api), tmdb_retry=TEST_RETRY) as services:
        loop = Billing(services, stripe_api, "", None)  # type: ignore[arg-type]  # only its helpers are used
        customer = await customer_of(loop, 1)
        event = stripe_api.complete_checkout(session_of(stripe_api, customer))[1]
        stripe_api.latency = 1.0  # the Stripe read is under way when the stop comes
        async with aiohttp.ClientSession() as http:
            async with serve_web(services, "127.0.0.1", 0) as runner:
                host, port = runner.addresses[0][:2]
                body, header = stripe_api.signed(event)
                delivery = asyncio.create_task(
                    http.post(f"http://{host}:{port}/webhooks/stripe", data=body, headers={"Stripe-Signature": header})
                )
                for _ in range(200):  # until the receiver is reading the subscription from Stripe
                    if any(p == "/subscriptions" for _, p, _ in stripe_api.requests):
                        break
                    await asyncio.sleep(0.01)
            # serve_web has shut down (SIGTERM does the same): the event was finished first.
            response = await delivery
            assert response.status == 200 and (await response.json())["outcome"] == "applied"
            response.release()
        assert await loop.tier(1) == "pro"
