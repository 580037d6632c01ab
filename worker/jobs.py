"""Background jobs run by arq."""

from __future__ import annotations

import logging
from typing import Any

from services.db import billing as billing_repo
from services.errors import MarqueeError
from services.runtime import Services
from services.tmdb.models import LIST_KINDS
from worker.notify import DiscordDMs, send_notice

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


async def billing_notice(ctx: dict[str, Any], notice_id: int) -> str:
    """DM a user about a change to their plan (once: see worker/notify.py)."""
    dms: DiscordDMs | None = ctx.get("dms")
    if dms is None:
        return "no DISCORD_TOKEN: not sent"
    return await send_notice(ctx["services"], dms, notice_id)


async def billing_sweep(ctx: dict[str, Any]) -> int:
    """Queue notices whose job was lost (Redis down when the webhook committed), and re-read from
    Stripe the customers whose state may have drifted (a webhook that never came is only late).
    Returns how many users changed."""
    services: Services = ctx["services"]
    if not services.billing.enabled:
        return 0
    async with services.db.connection() as conn:
        lost = await billing_repo.unsent_notices(conn, older_than_seconds=60)
    await services.billing.enqueue_notices(lost)
    return len(await services.billing.reconcile(everyone=False))
