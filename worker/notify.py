"""Billing DMs, sent by the worker over Discord's REST API (the worker has no gateway).

Each notice is sent at most once: the job claims the notice row (locked, unsent) in a
transaction and marks it sent in the same one; a DM that Discord refuses because the user
closed their DMs is given up on (and recorded), never retried and never a failed webhook. What
may pass (Discord's 429 and 5xx, Stripe down for the portal link) is retried by arq later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import aiohttp
import discord
from arq import Retry

from services.billing.service import PRO_PERKS
from services.db import billing as repo
from services.errors import MarqueeError
from services.runtime import Services

log = logging.getLogger(__name__)

DMS_CLOSED = 50007


class DMRefused(Exception):
    """Discord will not take this DM (closed DMs, an unknown user): recorded, never retried."""


@dataclass(frozen=True)
class DM:
    content: str
    link: tuple[str, str] | None = None  # (label, url) of a link button


class DiscordDMs:
    """DMs through discord.py's REST client (its rate limits handled as the bot's are), logged in
    on first use and closed with the worker."""

    def __init__(self, token: str, api_base: str | None) -> None:
        if api_base:
            discord.http.Route.BASE = api_base.rstrip("/")  # as the bot does (REST proxies, the emulator)
        self._token = token
        self._client: discord.Client | None = None

    async def send(self, user_id: int, dm: DM) -> None:
        view = discord.ui.View(timeout=None)
        if dm.link:
            view.add_item(discord.ui.Button(label=dm.link[0], url=dm.link[1]))
        try:
            channel = await (await self._logged_in()).create_dm(discord.Object(user_id))
            await channel.send(dm.content, view=view, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise Retry(defer=10) from exc  # discord.py already waited out any 429
            raise DMRefused("the user's DMs are closed" if exc.code == DMS_CLOSED else f"HTTP {exc.status}") from exc
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise Retry(defer=10) from exc

    async def _logged_in(self) -> discord.Client:
        if self._client is None:
            client = discord.Client(intents=discord.Intents.none())
            await client.login(self._token)
            self._client = client
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None


async def message_for(services: Services, notice: repo.Notice) -> DM:
    plan = await services.billing.plan(notice.discord_id)
    when = f" It renews on {plan.period_end:%-d %B %Y}." if plan.period_end else ""
    if notice.kind == "pro_started":
        return DM(f"🎉 You're now **Marquee Pro**: {PRO_PERKS}{when} Thank you!")
    if notice.kind == "payment_failed":
        portal = await services.billing.portal_url(plan)
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
