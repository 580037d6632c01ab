"""The whole billing loop for a test: the bot on the emulator, the web app (webhooks), the arq
worker (DMs), all on one service stack with billing on against the fake Stripe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import aiohttp
from pydantic import SecretStr

from services.config import Settings
from services.runtime import Services, open_services
from services.web import serve_web
from tests.conftest import TEST_LLM, TEST_RETRY, connected_bot
from tests.fakes.stripe import FakeStripe
from worker.settings import run_worker


def billing_settings(settings: Settings, stripe_api: FakeStripe) -> Settings:
    return settings.model_copy(
        update={
            "stripe_secret_key": SecretStr(stripe_api.secret_key),
            "stripe_webhook_secret": SecretStr(stripe_api.webhook_secret),
            "stripe_pro_price_id": stripe_api.price_id,
            "stripe_api_base": stripe_api.base_url,
            "public_url": "https://marquee.example",
        }
    )


@dataclass
class Billing:
    services: Services
    stripe: FakeStripe
    url: str
    http: aiohttp.ClientSession
    bot: Any = None

    async def post(self, body: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"}
        if signature is not None:
            headers["Stripe-Signature"] = signature
        async with self.http.post(f"{self.url}/webhooks/stripe", data=body, headers=headers) as resp:
            return resp.status, await resp.json(content_type=None) if resp.content_type == "application/json" else {}

    async def send(self, *events: dict[str, Any]) -> list[int]:
        """Deliver events as Stripe would (signed now), one after the other; their statuses."""
        statuses = []
        for event in events:
            status, _ = await self.post(*self.stripe.signed(event))
            statuses.append(status)
        return statuses

    async def tier(self, discord_id: int) -> str | None:
        async with self.services.db.connection() as conn:
            tier = await conn.fetchval("SELECT tier FROM users WHERE discord_id = $1", discord_id)
        return None if tier is None else str(tier)


@asynccontextmanager
async def billing_loop(
    settings: Settings, stripe_api: FakeStripe, emulator: Any | None = None, *, worker: bool = True
) -> AsyncIterator[Billing]:
    configured = billing_settings(settings, stripe_api)
    async with (
        open_services(configured, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services,
        serve_web(services, "127.0.0.1", 0) as runner,
        aiohttp.ClientSession() as http,
    ):
        host, port = runner.addresses[0][:2]
        loop = Billing(services, stripe_api, f"http://{host}:{port}", http)
        if emulator is None:
            yield loop
            return
        async with connected_bot(services, emulator) as bot:
            loop.bot = bot
            task = asyncio.create_task(run_worker(services)) if worker else None
            try:
                yield loop
            finally:
                if task is not None:
                    task.cancel()
                    await asyncio.gather(task, return_exceptions=True)
