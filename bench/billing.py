"""The webhook burst: 50 users' subscription lifecycles (checkout, payment failed, paid again,
a third cancelled), a third of the events sent twice, all shuffled and posted at once, signed,
to `marquee web` in its own process, as in production (embedded PostgreSQL and Redis, the
official stripe client against the fake Stripe in the benchmark's process). Throughput, p50/p99
latency per delivery, and whether anything was lost or applied twice.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import tempfile
import time
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import Rows, embedded_settings, ms, p99
from tests.billing_env import Billing, billing_loop
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.process import MarqueeProcess, base_env, free_port, wait_health

USERS = 50
PACED = 20


async def webhook_burst(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-billing-") as tmp:
        async with AsyncExitStack() as stack:
            tmdb = await stack.enter_async_context(FakeTMDB())
            stripe_api = await stack.enter_async_context(FakeStripe())
            data_dir = Path(tmp) / "data"
            settings = await embedded_settings(stack, data_dir, tmdb)
            assert settings.database_url is not None and settings.redis_url is not None
            dsn, redis_url = settings.database_url.get_secret_value(), settings.redis_url.get_secret_value()
            loop = await stack.enter_async_context(billing_loop(settings, stripe_api))
            port = free_port()
            env = base_env(
                DATABASE_URL=dsn,
                REDIS_URL=redis_url,
                TMDB_TOKEN=tmdb.token,
                TMDB_API_BASE=tmdb.base_url,
                **stripe_api.env(),
                MARQUEE_DATA_DIR=str(data_dir),
                WEB_PORT=str(port),
            )
            web = await MarqueeProcess(["web"], env, Path(tmp)).start()
            stack.push_async_callback(web.stop)
            await wait_health(port, time.monotonic() + 60)
            loop.url = f"http://127.0.0.1:{port}"
            all_at_once = await burst(loop, stripe_api, range(1, USERS + 1), None)
            paced = await burst(loop, stripe_api, range(USERS + 1, 2 * USERS + 1), PACED)
    rows.append(
        (
            "webhook burst replayed all at once (every delivery a duplicate): throughput",
            f"{all_at_once.deliveries / all_at_once.replay:.0f} deliveries/s ({all_at_once.replay:.2f} s in all)",
        )
    )
    for name, result in (("all at once", all_at_once), (f"at most {PACED} in flight", paced)):
        rows.append(
            (
                f"webhook burst, {name}: {result.deliveries} signed deliveries ({result.events} events, "
                f"{result.deliveries - result.events} duplicates) over {USERS} users: throughput; p50 / p99",
                f"{result.deliveries / result.elapsed:.0f} deliveries/s ({result.elapsed:.2f} s in all); "
                f"{ms(statistics.median(result.latencies))} / {ms(p99(result.latencies))}",
            )
        )
        rows.append(
            (
                f"webhook burst, {name}: non-2xx / lost / applied twice / users on the wrong tier / "
                "payment-failed DMs owed",
                f"{result.failed} / {result.lost} / {result.twice} / {result.wrong} / {result.failed_dms} "
                f"(one per user)",
            )
        )


@dataclass
class Burst:
    deliveries: int
    events: int
    elapsed: float
    latencies: list[float]
    failed: int
    lost: int
    twice: int
    wrong: int
    failed_dms: int
    replay: float  # seconds to answer the same deliveries again, all duplicates


async def burst(loop: Billing, stripe_api: FakeStripe, users: range, in_flight: int | None) -> Burst:
    expected: dict[int, str] = {}
    events: list[dict[str, Any]] = []
    for user in users:
        await loop.services.billing.checkout(user)
        session = next(s for s in stripe_api.sessions.values() if s["client_reference_id"] == str(user))
        events += stripe_api.lifecycle(session["id"], cancelled=user % 3 == 0)
        expected[user] = "free" if user % 3 == 0 else "pro"
    copies = events + random.Random(users.start).sample(events, max(len(events) // 3, 500 - len(events)))
    random.Random(users.start + 1).shuffle(copies)
    signed = [stripe_api.signed(e) for e in copies]
    gate = asyncio.Semaphore(in_flight or len(signed))

    async def deliver(body: bytes, header: str) -> tuple[float, int, str]:
        async with gate:
            began = time.perf_counter()
            status, answer = await loop.post(body, header)
            return time.perf_counter() - began, status, str(answer.get("outcome"))

    began = time.perf_counter()
    results = await asyncio.gather(*(deliver(b, h) for b, h in signed))
    elapsed = time.perf_counter() - began
    # Replayed at once: every delivery is now a duplicate, the cheapest kind (verify, one insert).
    began = time.perf_counter()
    await asyncio.gather(*(deliver(b, h) for b, h in signed))
    replay = time.perf_counter() - began
    ids = [e["id"] for e in events]
    async with loop.services.db.connection() as conn:
        recorded = await conn.fetchval("SELECT count(*) FROM stripe_events WHERE id = ANY($1)", ids)
        failed_dms = await conn.fetchval(
            "SELECT count(*) FROM notices WHERE kind = 'payment_failed' AND discord_id = ANY($1)", list(users)
        )
    tiers = {u: await loop.tier(u) for u in expected}
    return Burst(
        deliveries=len(copies),
        events=len(events),
        elapsed=elapsed,
        latencies=[r[0] for r in results],
        failed=sum(r[1] != 200 for r in results),
        lost=len(events) - recorded,
        twice=sum(r[2] == "applied" for r in results) - len(events),
        wrong=sum(tiers[u] != expected[u] for u in expected),
        failed_dms=failed_dms,
        replay=replay,
    )


if __name__ == "__main__":
    out: Rows = []
    asyncio.run(webhook_burst(out))
    print("| measure | result |\n|---|---|")
    for name, value in out:
        print(f"| {name} | {value} |")
