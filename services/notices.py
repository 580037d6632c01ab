"""The outbox: every DM Marquee sends a user outside an interaction, whatever the feature
(billing now; availability alerts and imports next). A feature writes a notice row in the
transaction of what it announces (services/db/notices.py), hands its id to `Outbox.enqueue`
after the commit, and registers how to word it (a `Renderer` for its kinds, see worker/notify.py).

The worker sends each notice once. Discord's definitive answers (closed DMs) end it; a 429
(Discord's or Cloudflare's, with or without Retry-After) or a 5xx is tried again later with
backoff, up to `ATTEMPTS` times; a job lost on the way is queued again by the sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.exceptions import RedisError

from services.db.notices import Notice

log = logging.getLogger(__name__)

JOB = "send_notice"
DMS_CLOSED = "the user's DMs are closed"  # a notice's failure when Discord refused it so (50007)
ATTEMPTS = 8  # then the notice is recorded as failed


@dataclass(frozen=True)
class DM:
    content: str
    link: tuple[str, str] | None = None  # (label, url) of a link button
    files: tuple[tuple[str, bytes], ...] = ()  # (filename, bytes) attached


Renderer = Callable[[Notice], Awaitable[DM]]


@dataclass(frozen=True)
class Backoff:
    """How long the next attempt waits: Discord's Retry-After when it gave one (within bounds),
    else `base` doubled at each attempt, at most `cap`."""

    base: float = 10.0
    cap: float = 900.0

    def delay(self, attempts: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 1.0), 3600.0)
        return min(self.base * 2 ** max(0, attempts - 1), self.cap)


def job_id(notice_id: int, attempt: int, sweep: str = "") -> str:
    """One job per attempt: a repeat of the same attempt (a second enqueue) is one job. The
    sweep's are its own (`sweep`: which sweep): the job it stands in for may be stuck behind a
    worker that was killed running it (arq holds such a job for its longest timeout)."""
    return f"notice:{notice_id}:{attempt}" + (f":sweep:{sweep}" if sweep else "")


class Outbox:
    def __init__(self, redis: ArqRedis) -> None:
        self._redis = redis

    async def enqueue(
        self, notices: Iterable[int | tuple[int, int]], *, defer: float | None = None, sweep: str = ""
    ) -> None:
        """Hand notices (ids, or (id, attempts made)) to the worker; what Redis cannot take now,
        the worker's sweep queues later (`sweep`: this is that sweep, see `job_id`)."""
        for notice in notices:
            notice_id, attempt = notice if isinstance(notice, tuple) else (notice, 0)
            try:
                job = job_id(notice_id, attempt, sweep)
                await self._redis.enqueue_job(JOB, notice_id, _job_id=job, _defer_by=defer)
            except (RedisError, OSError) as exc:
                log.warning("notice %d left for the sweep: %s", notice_id, type(exc).__name__)
