"""Background jobs run by arq."""

from __future__ import annotations

import logging
from typing import Any

from services.errors import MarqueeError
from services.runtime import Services
from services.tmdb.models import LIST_KINDS

log = logging.getLogger(__name__)


async def warm_lists(ctx: dict[str, Any]) -> int:
    """Load the first page of every list, the genres and the image configuration into the cache,
    so /browse answers from Redis. Returns how many lists were loaded."""
    services: Services = ctx["services"]
    loaded = 0
    for kind in LIST_KINDS:
        try:
            await services.catalog.browse(kind, 1)
            loaded += 1
        except MarqueeError as exc:
            log.warning("could not warm %s: %s", kind, exc)
    await services.catalog.genre_names()
    await services.catalog.image_config()
    return loaded
