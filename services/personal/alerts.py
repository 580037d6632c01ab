"""Availability alerts: a DM when a watchlisted film starts streaming on one of the user's
services in their region, or comes out. Daily (worker cron) and `marquee alerts run`.

A sweep fetches each distinct film watched by someone with alerts on, fresh from TMDB, once
(all regions are in one answer), at most `rate` calls a second. Then, per film, in one
transaction with its watchlist entries locked: each user's entry is compared with what it was
when last looked at, an alert is written to the outbox for what changed, and what is true now
is recorded. So an alert is written once per change whatever runs beside it (a second sweep
waits on the locks, then sees nothing new), a sweep killed half-way loses nothing and repeats
nothing, and a film TMDB cannot tell us about is skipped, never read as "not streaming".

The first look at an entry (just added, alerts just turned on, the user's region changed)
only records: what was already true is never announced.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from aiolimiter import AsyncLimiter

from services.catalog import MovieCatalog
from services.db import alerts as repo
from services.db.notices import Notice, add_notice
from services.db.pool import Database
from services.errors import MarqueeError
from services.notices import DM, Outbox, Renderer
from services.text import quote
from services.tmdb.models import MovieDetails

log = logging.getLogger(__name__)

STREAMING, RELEASED = "now_streaming", "out_now"
KINDS = (STREAMING, RELEASED)
RATE = 30.0  # TMDB calls a second at most (TMDB allows about 50)
CONCURRENCY = 8


@dataclass
class SweepReport:
    films: int = 0  # distinct films to look at
    checked: int = 0
    failed: list[int] = field(default_factory=list)  # films TMDB could not tell us about: skipped
    alerts: int = 0  # notices written
    seconds: float = 0.0

    @property
    def summary(self) -> str:
        failed = f", {len(self.failed)} could not be checked (TMDB) and wait for the next sweep" if self.failed else ""
        return (
            f"{self.checked} of {self.films} watchlisted films checked, {self.alerts} alerts queued{failed}"
            f" ({self.seconds:.1f}s)"
        )


class AlertService:
    def __init__(
        self,
        db: Database,
        catalog: MovieCatalog,
        outbox: Outbox,
        default_region: str,
        *,
        rate: float = RATE,
        today: Callable[[], date] = lambda: datetime.now(UTC).date(),
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._outbox = outbox
        self._default_region = default_region
        self._rate = rate
        self._today = today

    async def sweep(self) -> SweepReport:
        started = time.perf_counter()
        async with self._db.connection() as conn:
            films = await repo.watched_films(conn)
        report = SweepReport(films=len(films))
        limiter = AsyncLimiter(1, 1 / self._rate)  # evenly spaced: no burst above the rate
        gate = asyncio.Semaphore(CONCURRENCY)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")

        async def one(movie_id: int) -> None:
            async with gate:
                try:
                    async with limiter:
                        film = await self._catalog.details(movie_id, refresh=True)
                except MarqueeError as exc:
                    report.failed.append(movie_id)
                    log.info("alerts: film %d skipped: %s", movie_id, exc)
                    return
                notices = await self._compare(film, stamp)
            report.checked += 1
            report.alerts += len(notices)
            await self._outbox.enqueue(notices)  # after the commit; a lost one is queued by the sweep

        await asyncio.gather(*(one(m) for m in films))
        report.seconds = time.perf_counter() - started
        log.info("alerts sweep: %s", report.summary)
        return report

    async def _compare(self, film: MovieDetails, stamp: str) -> list[int]:
        """Alerts for what changed for each watcher of `film`, and what is true now, recorded."""
        today = self._today()
        notices: list[int] = []
        async with self._db.transaction() as conn:
            for watcher in await repo.lock_watchers(conn, film.id, self._default_region):
                regional = film.in_region(watcher.region)
                streaming = sorted({p.id for p in regional.providers.flatrate})
                out_on = regional.release_date or film.summary.release_date
                released = out_on is not None and out_on <= today
                user, movie = watcher.discord_id, film.id
                if watcher.seen_region == watcher.region and watcher.seen_streaming is not None:
                    new = [
                        p for p in regional.providers.streams_on(watcher.services) if p.id not in watcher.seen_streaming
                    ]
                    if new:
                        payload = {
                            "movie_id": movie,
                            "title": film.summary.label,
                            "region": watcher.region,
                            "services": [p.name for p in new],
                        }
                        key = f"alert:{STREAMING}:{user}:{movie}:{'+'.join(str(p.id) for p in new)}:{stamp}"
                        if (notice := await add_notice(conn, user, STREAMING, key, payload)) is not None:
                            notices.append(notice)
                    if released and watcher.seen_released is False and out_on is not None:
                        payload = {"movie_id": movie, "title": film.title, "date": out_on.isoformat()}
                        key = f"alert:{RELEASED}:{user}:{movie}:{watcher.region}"
                        if (notice := await add_notice(conn, user, RELEASED, key, payload)) is not None:
                            notices.append(notice)
                await repo.record_seen(conn, user, movie, watcher.region, streaming, released)
        return notices


def alert_renderers(today: Callable[[], date] = lambda: datetime.now(UTC).date()) -> dict[str, Renderer]:
    async def render(notice: Notice) -> DM:
        payload = notice.payload
        title = quote(payload.get("title", "A film on your watchlist"), 200)
        if notice.kind == STREAMING:
            services = ", ".join(quote(s, 60) for s in payload.get("services", []))
            return DM(f"🎬 **{title}** is now streaming on {services} ({quote(payload.get('region', ''), 2)})")
        out_on = date.fromisoformat(str(payload.get("date")))
        when = "today" if out_on == today() else f"since {out_on:%-d %B %Y}"
        return DM(f"📅 **{title}** is out {when}")

    return dict.fromkeys(KINDS, render)
