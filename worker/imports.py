"""The import job: runs an import (services/imports/service.py) and reports on the interaction
that started it, edited over Discord's webhook API (progress every few seconds, then the summary
with not_matched.csv); once that interaction is gone, the summary comes by DM (the outbox)."""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import aiohttp
from arq import Retry

from services.db import notices as notices_repo
from services.errors import MarqueeError
from services.imports.answers import AnswerHandle, recall
from services.imports.notices import DONE
from services.imports.report import progress_line
from services.imports.service import Finished
from services.notices import Outbox
from services.runtime import Services

log = logging.getLogger(__name__)

PROGRESS_EVERY = 3.0  # seconds between two progress edits
IMPORT_TRIES = 8
DISCORD_API = "https://discord.com/api/v10"


class AnswerGone(Exception):
    """The interaction can no longer be edited (its 15 minutes are over, or it is unknown)."""


class InteractionAnswer:
    """The interaction's original response, edited through Discord's webhook API (no bot token
    needed: the interaction token is the credential)."""

    def __init__(self, http: aiohttp.ClientSession, api_base: str | None, handle: AnswerHandle | None) -> None:
        self._http = http
        self._base = (api_base or DISCORD_API).rstrip("/")
        self._handle = handle
        self._last = 0.0

    async def progress(self, source: str, done: int, total: int) -> None:
        """Best effort, at most every PROGRESS_EVERY seconds: a missed edit is made up by the next."""
        if time.monotonic() - self._last >= PROGRESS_EVERY:
            self._last = time.monotonic()
            await self.say(progress_line(source, done, total))

    async def say(self, text: str) -> None:
        await self._shown(text)

    async def finish(self, finished: Finished) -> bool:
        """True when the summary was edited in; False when it must go by DM."""
        return await self._shown(finished.text, (("not_matched.csv", finished.csv),) if finished.csv else ())

    async def _shown(self, content: str, files: tuple[tuple[str, bytes], ...] = ()) -> bool:
        """Edit the answer; False when it could not be (and, once Discord says it is gone, never again)."""
        if self._handle is None:
            return False
        try:
            await self._edit(content, files)
        except AnswerGone:
            self._handle = None
            return False
        except (aiohttp.ClientError, TimeoutError, RuntimeError) as exc:  # never the URL: it holds the token
            log.info("import answer not edited: %s", type(exc).__name__)
            return False
        return True

    async def _edit(self, content: str, files: tuple[tuple[str, bytes], ...] = ()) -> None:
        assert self._handle is not None
        url = f"{self._base}/webhooks/{self._handle.application_id}/{self._handle.token}/messages/@original"
        payload: dict[str, Any] = {"content": content, "allowed_mentions": {"parse": []}}
        payload["attachments"] = [{"id": n, "filename": name} for n, (name, _) in enumerate(files)]
        form = aiohttp.FormData()
        form.add_field("payload_json", json.dumps(payload), content_type="application/json")
        for n, (name, data) in enumerate(files):
            form.add_field(f"files[{n}]", data, filename=name, content_type="text/csv")
        timeout = aiohttp.ClientTimeout(total=10)
        async with self._http.patch(url, data=form, timeout=timeout) as response:
            if response.status in (401, 404):
                raise AnswerGone(str(response.status))
            if response.status >= 400:
                raise RuntimeError(f"Discord answered {response.status}")


async def run_import(ctx: dict[str, Any], import_id: int) -> str:
    """Match and apply one import; TMDB or the database away: retried later, resuming."""
    services: Services = ctx["services"]
    handle = await recall(services.redis, import_id)
    answer = InteractionAnswer(services.http, services.settings.discord_api_base, handle)
    try:
        finished = await services.imports.run(import_id, answer)
    except MarqueeError as exc:
        tries: int = ctx.get("job_try", 1)
        if tries >= IMPORT_TRIES:
            await services.imports.fail(import_id, str(exc))
            return f"gave up: {exc}"
        delay = getattr(exc, "retry_after", None) or min(300.0, 5.0 * 2**tries)
        log.info("import %d paused (%s); resuming in %.0fs", import_id, exc, delay)
        raise Retry(defer=delay) from exc
    if finished is None:
        return "not this worker's: done already, or another worker runs it"
    if await answer.finish(finished):
        return "done: summary shown"
    await dm_summary(services, finished)
    return "done: summary sent by DM"


async def dm_summary(services: Services, finished: Finished) -> None:
    record = finished.record
    async with services.db.transaction() as conn:
        notice = await notices_repo.add_notice(
            conn, record.discord_id, DONE, f"import:{record.id}:done", {"import_id": record.id}
        )
    if notice is not None:
        await Outbox(services.redis).enqueue([notice])


async def import_sweep(ctx: dict[str, Any]) -> int:
    """Queue again the imports whose job was lost (a worker killed, Redis down when queued)."""
    services: Services = ctx["services"]
    lost = await services.imports.stalled()
    for import_id in lost:
        await services.redis.enqueue_job("run_import", import_id, _job_id=f"import:{import_id}:{int(time.time())}")
    return len(lost)
