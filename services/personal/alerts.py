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


def utc_today() -> date:
    return datetime.now(UTC).date()


@dataclass(frozen=True)
class Availability:
    """What a film is in one region today: the services streaming it, and whether it is out."""

    streaming: list[int]
    out_on: date | None

    @property
    def released(self) -> bool:
        return self.out_on is not None and self.out_on <= utc_today()

    @classmethod
    def of(cls, film: MovieDetails, region: str) -> Availability:
        return cls(sorted({p.id for p in film.in_region(region).providers.flatrate}), film.release_date_in(region))


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
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._outbox = outbox
        self._default_region = default_region
        self._rate = rate

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
        notices: list[int] = []
        async with self._db.transaction() as conn:
            for watcher in await repo.lock_watchers(conn, film.id, self._default_region):
                now = Availability.of(film, watcher.region)
                if watcher.seen_region == watcher.region and watcher.seen_streaming is not None:
                    for kind, key, payload in _changes(film, watcher, now, stamp):
                        if (notice := await add_notice(conn, watcher.discord_id, kind, key, payload)) is not None:
                            notices.append(notice)
                await repo.record_seen(conn, watcher.discord_id, film.id, watcher.region, now.streaming, now.released)
        return notices


def _changes(
    film: MovieDetails, watcher: repo.Watcher, now: Availability, stamp: str
) -> list[tuple[str, str, dict[str, object]]]:
    """The alerts (kind, dedupe key, payload) a watcher is owed since their entry was last seen."""
    user, movie = watcher.discord_id, film.id
    changes: list[tuple[str, str, dict[str, object]]] = []
    seen = watcher.seen_streaming or ()
    new = [p for p in film.in_region(watcher.region).providers.streams_on(watcher.services) if p.id not in seen]
    if new:
        payload = {
            "movie_id": movie,
            "title": film.summary.label,
            "region": watcher.region,
            "services": [p.name for p in new],
        }
        changes.append(
            (STREAMING, f"alert:{STREAMING}:{user}:{movie}:{'+'.join(str(p.id) for p in new)}:{stamp}", payload)
        )
    if now.out_on is not None and now.released and watcher.seen_released is False:
        payload = {"movie_id": movie, "title": film.title, "date": now.out_on.isoformat()}
        changes.append((RELEASED, f"alert:{RELEASED}:{user}:{movie}:{watcher.region}", payload))
    return changes


def alert_renderers() -> dict[str, Renderer]:
    async def render(notice: Notice) -> DM:
        payload = notice.payload
        title = quote(payload.get("title", "A film on your watchlist"), 200)
        if notice.kind == STREAMING:
            services = ", ".join(quote(s, 60) for s in payload.get("services", []))
            return DM(f"🎬 **{title}** is now streaming on {services} ({quote(payload.get('region', ''), 2)})")
        out_on = date.fromisoformat(str(payload.get("date")))
        when = "today" if out_on == utc_today() else f"since {out_on:%-d %B %Y}"
        return DM(f"📅 **{title}** is out {when}")

    return dict.fromkeys(KINDS, render)
