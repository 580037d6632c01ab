"""A movie night while it runs, in each bot process: its tally edits and its close.

Tally edits are coalesced per night: the first vote edits at once, later ones at most once a
second, and the last state always lands. Every process closes the nights that are due (its
own and, should their process be down, others'), at their time: a night started here wakes the
closer, and others' are found within POLL seconds. The night's row lock makes each close happen
once. Edits and the winner's card go through the bot's own channel access, since a night
outlives its 15-minute interaction token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import discord

from bot.cogs.movienight.render import (
    closed_content,
    closed_view,
    night_embed,
    night_view,
    open_content,
    winner_card,
    winner_line,
)
from services.errors import MarqueeError
from services.movienight.models import Closing, Night, Tally
from services.movienight.service import MovieNightService, NightGone
from services.tmdb.reference import Locale

if TYPE_CHECKING:
    from bot.client import MarqueeBot

log = logging.getLogger(__name__)

EDIT_INTERVAL = 1.0  # seconds between two edits of one night's tally
POLL = 5.0  # the longest the closer sleeps: others' nights close within this of their time
MIN_SLEEP = 0.5  # the shortest, so a night that keeps failing to close is not retried in a loop
RETRY_MAX = 60.0  # a night whose close failed is tried again after POLL, doubling up to this
STOP_WAIT = 5.0  # how long a stop waits for the tallies still to show


class NightShows:
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot
        self._dirty: set[int] = set()
        self._editing: dict[int, asyncio.Task[None]] = {}
        self._closer: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._retry_at: dict[int, tuple[float, float]] = {}  # night -> (monotonic time, backoff)

    @property
    def _service(self) -> MovieNightService:
        return self.bot.services.movienight

    def start(self) -> None:
        if self._closer is None:
            self._closer = asyncio.create_task(self._close_due(), name="movienight-closer")

    async def stop(self) -> None:
        """Stop closing; let the tallies waiting for their edit show (bounded)."""
        if self._closer is not None:
            self._closer.cancel()
            with suppress(asyncio.CancelledError):
                await self._closer
            self._closer = None
        if self._editing:
            _, late = await asyncio.wait(list(self._editing.values()), timeout=STOP_WAIT)
            for task in late:  # shown at the next vote, or as the final tally
                task.cancel()
            if late:
                await asyncio.wait(late)

    def wake(self) -> None:
        """A night was started here: its close time may be the next one."""
        self._wake.set()

    # ------------------------------------------------------------------ the tally
    def touch(self, night_id: int) -> None:
        """A vote changed this night's tally: show it (coalesced)."""
        self._dirty.add(night_id)
        if night_id not in self._editing:
            self._editing[night_id] = asyncio.create_task(self._edit(night_id), name=f"movienight-tally-{night_id}")

    async def _edit(self, night_id: int) -> None:
        try:
            while night_id in self._dirty:
                self._dirty.discard(night_id)
                try:
                    await self._service.show_tally(night_id, self._show_tally)
                except (MarqueeError, discord.HTTPException) as exc:
                    log.warning("movie night %d: could not show its tally: %s", night_id, exc)
                # A rate, not a wait for something: at most one edit a second per message, counted
                # from when the last one was done.
                await asyncio.sleep(EDIT_INTERVAL)
        finally:
            self._editing.pop(night_id, None)

    async def _show_tally(self, night: Night, tally: Tally) -> None:
        await self._edit_message(
            night, content=open_content(night), embed=night_embed(night, tally), view=night_view(night)
        )

    # ------------------------------------------------------------------ the close
    async def close(self, night_id: int, *, by: int | None = None, message_id: int | None = None) -> Closing | None:
        return await self._service.close(night_id, self._show_close, by=by, message_id=message_id)

    async def _show_close(self, closing: Closing) -> None:
        night = closing.night
        await self._edit_message(
            night,
            content=closed_content(closing),
            embed=night_embed(night, closing.tally, closed=True),
            view=closed_view(night),
        )
        if closing.winner is None:
            return
        catalog = self.bot.services.catalog
        card: dict[str, Any] = {}
        try:
            film = await catalog.details(closing.winner.tmdb_id, locale=Locale(night.region, night.language))
            card = dict(zip(("embed", "view"), winner_card(closing, film, await catalog.image_config()), strict=True))
        except MarqueeError as exc:  # TMDB away: the winner is still announced, without its card
            log.info("movie night %d: its winner's card could not be made: %s", night.id, exc)
        channel = self.bot.get_partial_messageable(night.channel_id, guild_id=night.guild_id)
        try:
            await channel.send(winner_line(closing), allowed_mentions=discord.AllowedMentions.none(), **card)
        except (discord.NotFound, discord.Forbidden) as exc:
            raise NightGone() from exc

    async def _edit_message(self, night: Night, *, content: str, embed: discord.Embed, view: discord.ui.View) -> None:
        assert night.message_id is not None
        channel = self.bot.get_partial_messageable(night.channel_id, guild_id=night.guild_id)
        try:
            await channel.get_partial_message(night.message_id).edit(
                content=content, embed=embed, view=view, allowed_mentions=discord.AllowedMentions.none()
            )
        except (discord.NotFound, discord.Forbidden) as exc:
            raise NightGone() from exc

    async def _close_due(self) -> None:
        while True:
            next_due: datetime | None = None
            try:
                for night_id in await self._service.due():
                    if self._retry_at.get(night_id, (0.0, 0.0))[0] <= time.monotonic():
                        await self._close_one(night_id)
                next_due = await self._service.next_due()
            except MarqueeError as exc:
                log.warning("movie nights: could not look for nights to close: %s", exc)
            wait = POLL
            if next_due is not None:
                wait = min(POLL, max(MIN_SLEEP, (next_due - datetime.now(UTC)).total_seconds()))
            self._wake.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)

    async def _close_one(self, night_id: int) -> None:
        try:
            await self.close(night_id)
        except (MarqueeError, discord.HTTPException) as exc:
            log.warning("movie night %d: could not close it now: %s", night_id, exc)
            backoff = min(RETRY_MAX, self._retry_at.get(night_id, (0.0, POLL / 2))[1] * 2)
            self._retry_at[night_id] = (time.monotonic() + backoff, backoff)
            with suppress(MarqueeError):
                await self._service.close_failed(night_id)
        else:
            self._retry_at.pop(night_id, None)
