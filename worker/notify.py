"""Billing DMs, sent by the worker over Discord's REST API (the worker has no gateway).

Each notice is sent at most once: the job claims the notice row (locked, unsent) in a
transaction and marks it sent in the same one; a DM that Discord refuses because the user
closed their DMs is given up on (and recorded), never retried and never a failed webhook. What
may pass (Discord's 429 and 5xx, Stripe down for the portal link) is retried by arq later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import aiohttp
from arq import Retry

from services.db import billing as repo
from services.errors import MarqueeError
from services.runtime import Services

log = logging.getLogger(__name__)

DISCORD_API = "https://discord.com/api/v10"
DMS_CLOSED = 50007
TIMEOUT = aiohttp.ClientTimeout(total=10)


class DMRefused(Exception):
    """Discord will not take this DM (closed DMs, an unknown user): recorded, never retried."""


@dataclass(frozen=True)
class DM:
    content: str
    link: tuple[str, str] | None = None  # (label, url) of a link button


class DiscordDMs:
    def __init__(self, session: aiohttp.ClientSession, token: str, api_base: str | None) -> None:
        self._session = session
        self._headers = {"Authorization": f"Bot {token}"}
        self._base = (api_base or DISCORD_API).rstrip("/")

    async def send(self, user_id: int, dm: DM) -> None:
        channel = await self._post("/users/@me/channels", {"recipient_id": str(user_id)})
        body: dict[str, Any] = {"content": dm.content, "allowed_mentions": {"parse": []}}
        if dm.link:
            label, url = dm.link
            body["components"] = [{"type": 1, "components": [{"type": 2, "style": 5, "label": label, "url": url}]}]
        await self._post(f"/channels/{channel['id']}/messages", body)

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        try:
            async with self._session.post(self._base + path, json=body, headers=self._headers, timeout=TIMEOUT) as resp:
                data = await resp.json(content_type=None)
                code = data.get("code") if isinstance(data, dict) else None
                if resp.status == 429:
                    raise Retry(defer=float(data.get("retry_after", 5)) if isinstance(data, dict) else 5)
                if resp.status >= 500:
                    raise Retry(defer=10)
                if resp.status >= 400:
                    reason = "the user's DMs are closed" if code == DMS_CLOSED else f"HTTP {resp.status} (code {code})"
                    raise DMRefused(reason)
                return data if isinstance(data, dict) else {}
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Retry(defer=10) from exc


async def message_for(services: Services, notice: repo.Notice) -> DM:
    plan = await services.billing.plan(notice.discord_id)
    when = f" It renews on {plan.period_end:%-d %B %Y}." if plan.period_end else ""
    if notice.kind == "pro_started":
        return DM(f"🎉 You're now **Marquee Pro**: `/semantic` and no daily AI cap.{when} Thank you!")
    if notice.kind == "payment_failed":
        portal = await services.billing.portal_url(notice.discord_id)
        text = "Your payment for **Marquee Pro** didn't go through. Please update your payment method"
        return DM(f"{text} so Pro carries on.", ("Update payment method", portal) if portal else None)
    return DM("Your **Marquee Pro** has ended. Everything free still works; `/upgrade` any time to come back.")


async def send_notice(services: Services, dms: DiscordDMs, notice_id: int) -> str:
    """Send one notice unless it was sent already; returns what happened."""
    async with services.db.transaction() as conn:
        notice = await repo.claim_notice(conn, notice_id)
        if notice is None:
            return "already sent"
        try:
            dm = await message_for(services, notice)
        except MarqueeError as exc:  # Stripe or the database, for the portal link: later
            raise Retry(defer=30) from exc
        try:
            await dms.send(notice.discord_id, dm)
        except DMRefused as exc:
            await repo.finish_notice(conn, notice_id, failure=str(exc))
            log.info("billing notice %d not delivered: %s", notice_id, exc)
            return f"not delivered: {exc}"
        await repo.finish_notice(conn, notice_id)
    return "sent"
