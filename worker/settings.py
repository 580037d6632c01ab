"""The arq worker: built on the process's shared Redis client and services."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from arq import cron, func
from arq.worker import Worker
from redis.exceptions import RedisError

from services.runtime import Services
from worker.imports import IMPORT_TRIES, import_sweep, run_import
from worker.jobs import (
    EMBED_TRIES,
    alerts_sweep,
    billing_sweep,
    embed_pending,
    embed_sweep,
    notice_sweep,
    send_notice,
    trakt_sync,
    warm_lists,
)
from worker.notify import DiscordDMs, Sender

log = logging.getLogger(__name__)

FUNCTIONS: list[Any] = [
    warm_lists,
    # A DM that may go through later is queued again as a new job, after its wait (see
    # worker/notify.py). arq's own retry is for a worker stopped mid-send (the job cancelled):
    # another worker sends it at once, and Discord folds the two sends into one message (nonce).
    func(send_notice, max_tries=2, keep_result=0),
    notice_sweep,
    billing_sweep,
    # Its result is never kept: a kept result would make arq refuse the next one for its _job_id.
    # One run embeds everything queued (a catalogue sync's worth too), hence the long timeout.
    func(embed_pending, keep_result=0, max_tries=EMBED_TRIES + 1, timeout=6 * 3600),
    embed_sweep,
    # A sweep of many films at TMDB's pace takes minutes; a kill half-way repeats nothing. Timed
    # jobs keep their result a while: a second worker enqueueing the same due time after the
    # first run ended is refused by its job id (see README, "every timed job once").
    func(alerts_sweep, timeout=3 * 3600, keep_result=3600),
    # Tens of thousands of films at TMDB's pace; a stopped run resumes where it was.
    func(run_import, timeout=3 * 3600, keep_result=0, max_tries=IMPORT_TRIES + 1),
    import_sweep,
    func(trakt_sync, timeout=3600, keep_result=3600),
]
RESTART_DELAY_MAX = 30.0


def create_worker(services: Services) -> Worker:
    settings = services.settings
    sender = None
    if settings.discord_token is not None:
        sender = Sender(services, DiscordDMs(settings.discord_token.get_secret_value(), settings.discord_api_base))
    return Worker(
        functions=FUNCTIONS,
        cron_jobs=[
            # Lists are cached for an hour; reload them a little before they expire.
            cron(warm_lists, minute={0, 50}, run_at_startup=True, unique=True),
            cron(billing_sweep, minute=set(range(0, 60, 10)), unique=True),
            cron(notice_sweep, minute=set(range(0, 60, 2)), run_at_startup=True, unique=True),
            cron(embed_sweep, minute=set(range(5, 60, 10)), run_at_startup=True, unique=True),
            cron(alerts_sweep, hour={9}, minute={0}, unique=True, timeout=3 * 3600),
            cron(import_sweep, minute=set(range(1, 60, 5)), run_at_startup=True, unique=True),
            cron(trakt_sync, minute={17}, unique=True, timeout=3600),
        ],
        redis_pool=services.redis,
        ctx={"services": services, "sender": sender},
        handle_signals=False,
        max_jobs=10,
        job_timeout=300,
        keep_result=3600,
    )


async def run_worker(services: Services) -> None:
    """Run the worker until cancelled; when Redis goes away, start it again with backoff."""
    delay = 1.0
    while True:
        worker = create_worker(services)
        task = asyncio.create_task(worker.async_run(), name="arq-worker")
        try:
            # Not `await task`: cancelling us would be handed to arq and wait on it; see _cancel.
            await asyncio.wait({task})
            task.result()
        except (RedisError, OSError) as exc:
            log.warning("worker lost Redis (%s); restarting in %.0fs", type(exc).__name__, delay)
        except asyncio.CancelledError:
            await _cancel(task)
            await _close(worker)
            raise
        await _close(worker)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RESTART_DELAY_MAX)


async def _cancel(task: asyncio.Task[None]) -> None:
    # A cancellation that lands inside one of arq's Redis calls can be swallowed there, leaving
    # its poll loop running: keep cancelling until the task is really done.
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)
    if not task.cancelled():
        task.exception()  # seen: we are stopping, whatever it failed with


async def _close(worker: Worker) -> None:
    try:
        # close() cancels the jobs still running and waits for them; it also removes the
        # health-check key, which fails when Redis is the reason we stop.
        with suppress(RedisError, OSError):
            await worker.close()
    finally:
        sender: Sender | None = worker.ctx.get("sender")
        if sender is not None:  # after the jobs: none of them can log in again behind it
            await sender.dms.close()
