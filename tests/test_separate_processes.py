"""`marquee web` and `marquee worker` as their own processes on shared PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from services.billing.service import Checkout
from services.runtime import open_services
from tests.billing_env import billing_settings
from tests.conftest import TEST_RETRY, make_settings
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import until
from tests.process import MarqueeProcess, free_port, stores_env, wait_health
from tests.test_e2e_process import assert_clean


async def test_web_and_worker_processes(tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str) -> None:
    port = free_port()
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        WEB_PORT=str(port),
    )
    web = await MarqueeProcess(["web"], env, tmp_path).start()
    worker = await MarqueeProcess(["worker"], env, tmp_path).start()
    redis = Redis.from_url(redis_url)
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(600):
                try:
                    async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                        body = await resp.json()
                        break
                except aiohttp.ClientError:
                    await asyncio.sleep(0.05)
        assert body == {"status": "ok", "database": "ok", "redis": "ok"}
        # The worker warms every list at start-up: the cache fills without any command.
        for _ in range(600):
            if len(await redis.keys("marquee:tmdb:/*movie*")) >= 5:
                break
            await asyncio.sleep(0.05)
        assert {c.path for c in tmdb.calls} >= {
            "/movie/now_playing",
            "/movie/popular",
            "/movie/top_rated",
            "/movie/upcoming",
            "/trending/movie/week",
        }
        assert await web.stop(signal.SIGTERM) == 0
        assert await worker.stop(signal.SIGTERM) == 0
    finally:
        web.kill()
        worker.kill()
        await redis.aclose()
    assert_clean(web.output())
    assert_clean(worker.output())


async def test_billing_across_web_and_worker_processes(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str, stripe_api: FakeStripe, emulator: Any
) -> None:
    """The deployment shape of docker-compose: Stripe's webhook reaches `marquee web`, and the DM
    it owes is sent by `marquee worker` over Discord's REST API."""
    alice = int(emulator.alice["id"])
    settings = make_settings(
        database_url=database_url, redis_url=redis_url, tmdb_token=tmdb.token, tmdb_api_base=tmdb.base_url
    )
    async with open_services(billing_settings(settings, stripe_api), tmdb_retry=TEST_RETRY) as services:
        assert isinstance(await services.billing.checkout(alice), Checkout)  # alice ran /upgrade
    port = free_port()
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        WEB_PORT=str(port),
        METRICS_PORT="0",
        **stripe_api.env(),
        PUBLIC_URL="https://marquee.example",
        **emulator.env(),
    )
    web = await MarqueeProcess(["web"], env, tmp_path).start()
    worker = await MarqueeProcess(["worker"], env, tmp_path).start()
    try:
        await wait_health(port, time.monotonic() + 30)
        session_id = next(iter(stripe_api.sessions))
        async with aiohttp.ClientSession() as http:
            for event in stripe_api.complete_checkout(session_id):
                body, header = stripe_api.signed(event)
                async with http.post(
                    f"http://127.0.0.1:{port}/webhooks/stripe", data=body, headers={"Stripe-Signature": header}
                ) as resp:
                    assert resp.status == 200
        await until(lambda: bool(emulator.dms(emulator.alice)), 20, "the DM")
        assert [m["content"].split(":")[0] for m in emulator.dms(emulator.alice)] == ["🎉 You're now **Marquee Pro**"]
        assert await web.stop(signal.SIGTERM) == 0
        assert await worker.stop(signal.SIGTERM) == 0
    finally:
        web.kill()
        worker.kill()
    assert_clean(web.output())
    assert_clean(worker.output())
    assert stripe_api.secret_key not in web.output() + worker.output()
