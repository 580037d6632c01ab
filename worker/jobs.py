"""Background jobs run by arq."""

from __future__ import annotations

import logging
import time
from typing import Any

from arq import Retry

from services.db import notices as notices_repo
from services.errors import DatabaseUnavailable, EmbeddingsUnavailable, MarqueeError
from services.notices import Outbox
from services.redis_circuit import RedisDown
from services.runtime import Services
from services.tmdb.models import LIST_KINDS
from worker.notify import Sender

log = logging.getLogger(__name__)


async def warm_lists(ctx: dict[str, Any]) -> int:
    """Reload the first page of every list from TMDB into the cache ahead of its expiry (whatever
    is cached), plus the genres and the image configuration, so /browse answers from Redis.
    Returns how many lists were reloaded."""
    services: Services = ctx["services"]
    loaded = 0
    for kind in LIST_KINDS:
        try:
            await services.catalog.refresh_list(kind)
            loaded += 1
        except MarqueeError as exc:
            log.warning("could not warm %s: %s", kind, exc)
    await services.catalog.genre_names()
    await services.catalog.image_config()
    return loaded


async def send_notice(ctx: dict[str, Any], notice_id: int) -> str:
    """Send one DM of the outbox, whatever feature wrote it (once: see worker/notify.py)."""
    sender: Sender | None = ctx.get("sender")
    if sender is None:
        return "no DISCORD_TOKEN: not sent"
    return await sender.send(notice_id)


async def notice_sweep(ctx: dict[str, Any]) -> int:
    """Queue the notices whose job was lost (Redis down when their feature committed, a worker
    killed mid-wait). Returns how many were queued."""
    services: Services = ctx["services"]
    async with services.db.connection() as conn:
        lost = await notices_repo.due_notices(conn, older_than_seconds=60)
    # Its own job ids (one set per minute): a lost job may still hold its id, behind a killed worker.
    await Outbox(services.redis).enqueue(lost, sweep=str(int(time.time()) // 60))
    return len(lost)


async def billing_sweep(ctx: dict[str, Any]) -> int:
    """Re-read from Stripe the customers whose state may have drifted (a webhook that never came
    is only late). Returns how many users changed."""
    services: Services = ctx["services"]
    if not services.billing.enabled:
        return 0
    return len(await services.billing.reconcile(everyone=False))


async def alerts_sweep(ctx: dict[str, Any]) -> str:
    """Availability alerts: every watchlisted film of users with alerts on, checked once."""
    services: Services = ctx["services"]
    return (await services.alerts.sweep()).summary


async def trakt_sync(ctx: dict[str, Any]) -> str:
    """What connected users watched, rated or listed on Trakt since the last sync."""
    services: Services = ctx["services"]
    return (await services.trakt.sync_all()).summary


EMBED_TRIES = 12  # then the job gives up; the sweep queues the films again later


async def embed_pending(ctx: dict[str, Any]) -> str:
    """Embed the films queued for it (see services/embeddings/pipeline.py). The API busy or
    down, or the database away: retried with backoff (the Retry-After when the API sent one).
    It never fails as an arq job (a failed job's stored result would block its id for an hour):
    whatever it could not do stays queued, and the sweep re-queues what a lost queue forgot."""
    services: Services = ctx["services"]
    if not services.embeddings.enabled:
        return "AI is off: nothing embedded"
    tries: int = ctx.get("job_try", 1)
    try:
        report = await services.embeddings.run_pending()
    except (EmbeddingsUnavailable, DatabaseUnavailable) as exc:
        if tries >= EMBED_TRIES:
            log.warning("embedding gave up after %d tries (%s); the sweep will queue the films again", tries, exc)
            return f"gave up: {exc}"
        delay = exc.retry_after or min(300.0, 2.0**tries)
        log.info("embedding paused (%s); retrying in %.0fs", exc, delay)
        raise Retry(defer=delay) from exc
    except RedisDown:
        return "Redis is down: the sweep will queue the films again"
    except Exception:
        log.exception("embedding failed; the films stay queued")
        return "failed"
    return f"embedded {report.embedded}, unchanged {report.unchanged}, dropped {len(report.dropped)}"


async def embed_sweep(ctx: dict[str, Any]) -> int:
    """Queue every film of the catalogue that has no vector in the configured space yet (its job
    was lost, Redis was down, or the model or size changed); switch spaces once one is complete.
    Returns how many films were queued."""
    services: Services = ctx["services"]
    return await services.embeddings.sweep()
