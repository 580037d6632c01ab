"""The arq worker: built on the process's shared Redis client and services."""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress

from arq import cron
from arq.worker import Worker
from redis.exceptions import RedisError

from services.runtime import Services
from worker.jobs import warm_lists

log = logging.getLogger(__name__)

FUNCTIONS = [warm_lists]
RESTART_DELAY_MAX = 30.0


def create_worker(services: Services) -> Worker:
    return Worker(
        functions=FUNCTIONS,
        # Lists are cached for an hour; reload them a little before they expire.
        cron_jobs=[cron(warm_lists, minute={0, 50}, run_at_startup=True, unique=True)],
        redis_pool=services.redis,
        ctx={"services": services},
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
            await task
        except (RedisError, OSError) as exc:
            log.warning("worker lost Redis (%s); restarting in %.0fs", type(exc).__name__, delay)
        except asyncio.CancelledError:
            task.cancel()
            with suppress(asyncio.CancelledError, RedisError, OSError):
                await task
            await _close(worker)
            raise
        await _close(worker)
        await asyncio.sleep(delay)
        delay = min(delay * 2, RESTART_DELAY_MAX)


async def _close(worker: Worker) -> None:
    # close() also removes the health-check key, which fails when Redis is the reason we stop.
    with suppress(RedisError, OSError):
        await worker.close()
