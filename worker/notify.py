"""Sending the outbox (services/notices.py): DMs over Discord's REST API (the worker has no
gateway), each notice once, whatever feature wrote it.

A notice is claimed (its row locked) while it is sent and marked sent in the same transaction,
so two workers never both send it; a worker stopped between Discord taking the DM and the commit
leaves it to be sent again, which Discord folds into the first (the notice's id is the message's
nonce, enforced). Discord's answer decides what follows:
- sent: done;
- closed DMs (403/50007) or another definitive 4xx: recorded as failed, never tried again, and
  never a failed webhook;
- a 429 (Discord's after discord.py's own retries, or Cloudflare's, with or without Retry-After),
  a 5xx, a time-out, or what the text needs being away (Stripe for the portal link): the attempt is
  recorded and a new job is queued for after the wait (Retry-After, else backoff), up to
  `ATTEMPTS`; the sweep queues again whatever job was lost.
"""

from __future__ import annotations

import asyncio
import io
import logging
from dataclasses import dataclass, field

import aiohttp
import asyncpg
import discord

from services.backoff import retry_after_seconds
from services.billing.notices import billing_renderers
from services.db import notices as repo
from services.errors import MarqueeError
from services.imports.notices import import_renderers
from services.notices import ATTEMPTS, DM, Backoff, Outbox, Renderer
from services.notices import DMS_CLOSED as CLOSED_TEXT
from services.personal.alerts import alert_renderers
from services.runtime import Services

log = logging.getLogger(__name__)

DMS_CLOSED = 50007


class DMRefused(Exception):
    """Discord will not take this DM (closed DMs, an unknown user): recorded, never retried."""


class DMDeferred(Exception):
    """This DM may go through later (rate limited, Discord or a dependency down)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class DiscordDMs:
    """DMs through discord.py's REST client (its rate limits handled as the bot's are), logged in
    on first use and closed with the worker."""

    def __init__(self, token: str, api_base: str | None) -> None:
        if api_base:
            discord.http.Route.BASE = api_base.rstrip("/")  # as the bot does (REST proxies, the emulator)
        self._token = token
        self._client: discord.Client | None = None
        self._login = asyncio.Lock()
        self._closed = False

    async def send(self, user_id: int, dm: DM, *, nonce: str) -> None:
        """`nonce` (25 characters at most): Discord makes one message of every send with the same
        nonce (a few minutes apart at most), so a DM sent again after a stop that lost its answer
        is not sent twice."""
        view = discord.ui.View(timeout=None)
        if dm.link:
            view.add_item(discord.ui.Button(label=dm.link[0], url=dm.link[1]))
        try:
            channel = await (await self._logged_in()).create_dm(discord.Object(user_id))
            files = [discord.File(io.BytesIO(data), filename=name) for name, data in dm.files]
            await channel.send(
                dm.content, view=view, files=files, allowed_mentions=discord.AllowedMentions.none(), nonce=nonce
            )
        except discord.RateLimited as exc:  # a wait longer than discord.py will sleep for
            raise DMDeferred("rate limited", exc.retry_after) from exc
        except discord.HTTPException as exc:
            if exc.status == 429 or exc.status >= 500:
                header = exc.response.headers.get("Retry-After") if exc.response is not None else None
                raise DMDeferred(f"HTTP {exc.status}", retry_after_seconds(header)) from exc
            raise DMRefused(CLOSED_TEXT if exc.code == DMS_CLOSED else f"HTTP {exc.status}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise DMDeferred(type(exc).__name__) from exc

    async def _logged_in(self) -> discord.Client:
        # One client for every job: jobs run concurrently, and two logging in at once would
        # each open an HTTP session, one of them never closed.
        async with self._login:
            if self._closed:
                raise DMDeferred("the worker is stopping")
            if self._client is None:
                client = discord.Client(intents=discord.Intents.none())
                try:
                    await client.login(self._token)
                except BaseException:
                    await client.close()  # its HTTP session is open from the first request on
                    raise
                self._client = client
            return self._client

    async def close(self) -> None:
        async with self._login:
            self._closed = True
            if self._client is not None:
                await self._client.close()
                self._client = None


@dataclass
class Sender:
    """Sends one notice of any kind; `renderers` word each kind (one registry for every feature)."""

    services: Services
    dms: DiscordDMs
    backoff: Backoff = field(default_factory=Backoff)

    def __post_init__(self) -> None:
        self.renderers: dict[str, Renderer] = {
            **billing_renderers(self.services.billing),
            **alert_renderers(),
            **import_renderers(self.services.imports),
        }
        self.outbox = Outbox(self.services.redis)

    async def send(self, notice_id: int) -> str:
        """What happened: sent, already sent, not delivered (and why), or the wait before the next try."""
        async with self.services.db.transaction() as conn:
            notice = await repo.claim_notice(conn, notice_id)
            if notice is None:
                return "already sent"
            try:
                render = self.renderers[notice.kind]
            except KeyError:
                await repo.mark_failed(conn, notice_id, f"no renderer for {notice.kind!r}")
                log.error("notice %d is of an unknown kind %r", notice_id, notice.kind)
                return "not delivered: unknown kind"
            try:
                await self.dms.send(notice.discord_id, await render(notice), nonce=f"notice-{notice_id}")
            except DMRefused as exc:
                await repo.mark_failed(conn, notice_id, str(exc))
                log.info("notice %d not delivered: %s", notice_id, exc)
                return f"not delivered: {exc}"
            except (DMDeferred, MarqueeError) as exc:  # MarqueeError: what the text needs (Stripe, the db)
                return await self._later(conn, notice, exc)
            await repo.mark_sent(conn, notice_id)
        return "sent"

    async def _later(self, conn: asyncpg.Connection, notice: repo.Notice, exc: Exception) -> str:
        """Record an attempt that may go through later, and queue the next one after its wait."""
        reason = str(exc) or type(exc).__name__
        if notice.attempts + 1 >= ATTEMPTS:
            await repo.mark_failed(conn, notice.id, f"gave up after {ATTEMPTS} attempts: {reason}")
            log.warning("notice %d given up after %d attempts: %s", notice.id, ATTEMPTS, reason)
            return f"not delivered: gave up after {ATTEMPTS} attempts"
        delay = self.backoff.delay(notice.attempts + 1, getattr(exc, "retry_after", None))
        attempts = await repo.defer(conn, notice.id, delay, reason)
        # The next job runs a second or more from now, after this transaction has committed.
        await self.outbox.enqueue([(notice.id, attempts)], defer=delay)
        log.info("notice %d deferred %.0fs (attempt %d: %s)", notice.id, delay, attempts, reason)
        return f"retrying in {delay:.0f}s"
