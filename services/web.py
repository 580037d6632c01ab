"""The aiohttp web app: health, metrics, Stripe's webhooks and Checkout's return pages."""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web
from redis.exceptions import RedisError

from services.billing.pages import add_billing_routes
from services.billing.webhook import StripeWebhook
from services.errors import DatabaseUnavailable, StartupError
from services.metrics import CONTENT_TYPE
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


async def live(request: web.Request) -> web.Response:
    """Liveness: the process serves. Readiness (the stores) is /health."""
    return web.json_response({"status": "ok"})


async def metrics(request: web.Request) -> web.Response:
    body = request.app[SERVICES_KEY].metrics.render()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE, "X-Content-Type-Options": "nosniff"})


def create_app(services: Services) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[SERVICES_KEY] = services
    app.router.add_get("/health", health)
    app.router.add_get("/health/live", live)
    app.router.add_get("/metrics", metrics)
    add_billing_routes(app, stripe_webhook(services))
    return app


def stripe_webhook(services: Services) -> StripeWebhook | None:
    secret = services.settings.stripe_webhook_secret
    if not services.billing.enabled or secret is None:
        return None
    return StripeWebhook(services.billing, secret.get_secret_value(), services.metrics)


@asynccontextmanager
async def serve_web(
    services: Services, host: str, port: int, *, setting: str = "WEB_PORT"
) -> AsyncIterator[web.AppRunner]:
    """The web app on host:port (`marquee bot` and `worker` serve it on METRICS_PORT for /metrics)."""
    runner = web.AppRunner(create_app(services), handle_signals=False, access_log=None)
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise StartupError(
                    f"{setting} {port} on {host} is already in use (another Marquee may be running)"
                ) from None
            raise StartupError(f"cannot listen on {host}:{port} ({setting}): {exc.strerror or exc}") from None
        log.info("web server listening on %s", ", ".join(str(addr) for addr in runner.addresses))
        yield runner
    finally:
        await runner.cleanup()
