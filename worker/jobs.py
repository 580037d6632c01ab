"""Background jobs run by arq."""

from __future__ import annotations

import logging
from typing import Any

from services.errors import MarqueeError
from services.runtime import Services
from services.tmdb.models import LIST_KINDS

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
