"""The aiohttp web app: health and metrics (Stripe webhooks join it with billing)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from redis.exceptions import RedisError

from services.errors import DatabaseUnavailable
from services.runtime import Services

log = logging.getLogger(__name__)

SERVICES_KEY = web.AppKey("services", Services)
PROBE_TIMEOUT = 2.0


async def health(request: web.Request) -> web.Response:
    """Database and Redis state; 503 when either is down."""
    services = request.app[SERVICES_KEY]
    database, redis = await asyncio.gather(_probe_database(services), _probe_redis(services))
    healthy = database == "ok" and redis == "ok"
    body = {"status": "ok" if healthy else "degraded", "database": database, "redis": redis}
    return web.json_response(body, status=200 if healthy else 503)


async def _probe_database(services: Services) -> str:
    try:
        await asyncio.wait_for(services.db.ping(), PROBE_TIMEOUT)
    except (TimeoutError, DatabaseUnavailable):
        return "down"
    return "ok"


async def _probe_redis(services: Services) -> str:
    try:
        await asyncio.wait_for(services.redis.ping(), PROBE_TIMEOUT)
    except (TimeoutError, RedisError, OSError):
        return "down"
    return "ok"


async def metrics(request: web.Request) -> web.Response:
    text = request.app[SERVICES_KEY].metrics.render()
    return web.Response(
        text=text, content_type="text/plain", charset="utf-8", headers={"X-Content-Type-Options": "nosniff"}
    )


def create_app(services: Services) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVICES_KEY] = services
    app.router.add_get("/health", health)
    app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serve_web(services: Services, host: str, port: int) -> AsyncIterator[web.AppRunner]:
    runner = web.AppRunner(create_app(services), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        log.info("web server listening on %s", ", ".join(str(addr) for addr in runner.addresses))
        yield runner
    finally:
        await runner.cleanup()
