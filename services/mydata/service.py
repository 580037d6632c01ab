"""/mydata's service: a user's data counted, exported as one ZIP (JSON of every row, and CSVs in
Letterboxd's columns, ratings in stars, to import elsewhere), and deleted in one transaction."""

from __future__ import annotations

import csv
import io
import json
import logging
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from services.billing.service import BillingService
from services.cache import Cache
from services.db import mydata as repo
from services.db.pool import Database
from services.errors import ProStillActive
from services.redis_circuit import RedisDown
from services.trakt.service import TraktService

log = logging.getLogger(__name__)

LETTERBOXD_COLUMNS = ["Date", "Name", "Year", "tmdbID"]
# Cached answers made for one user (services/ai/foryou.py's last batch).
USER_CACHE_KEYS = ("ai:foryou:last:{id}",)
README = """Everything Marquee keeps about you, as of {when}.

marquee.json   every row about you, table by table (your plan, searches, watch history,
               ratings and 👍/👎, watchlist, settings, taste profile, imports, movie nights
               you hosted and your votes, messages owed to you, and whether Trakt is
               connected: its tokens are secrets, never exported)
watched.csv    your watch history     } in Letterboxd's columns (Date, Name, Year) plus tmdbID,
ratings.csv    your ratings, in stars } so Letterboxd, Marquee and others can import them
watchlist.csv  your watchlist         }
"""


@dataclass(frozen=True)
class MyData:
    """What Marquee keeps about a user, counted."""

    searches: int
    watched: int
    ratings: int
    watchlist: int
    settings: bool
    taste_profile: bool
    trakt: bool
    imports: int
    movie_nights: int  # hosted
    votes: int  # in movie nights
    plan: str
    known: bool  # any row at all (a user Marquee has never stored has nothing to delete)


class MyDataService:
    def __init__(self, db: Database, cache: Cache, billing: BillingService, trakt: TraktService) -> None:
        self._db = db
        self._cache = cache
        self._billing = billing
        self._trakt = trakt

    async def summary(self, discord_id: int) -> MyData:
        async with self._db.connection() as conn:
            counts = await repo.counts(conn, discord_id)
            user = await repo.user_row(conn, discord_id)
        return MyData(
            searches=counts["search_history"],
            watched=counts["watch_history"],
            ratings=counts["feedback"],
            watchlist=counts["watchlist"],
            settings=bool(counts["user_settings"]),
            taste_profile=bool(counts["taste_profiles"]),
            trakt=bool(counts["trakt_links"]),
            imports=counts["imports"],
            movie_nights=counts["movie_nights"],
            votes=counts["night_votes"],
            plan=(user or {}).get("tier", "free"),
            known=user is not None,
        )

    async def export(self, discord_id: int) -> bytes:
        """One ZIP of everything, read in one snapshot (a repeatable-read transaction)."""
        async with self._db.connection() as conn, conn.transaction(isolation="repeatable_read", readonly=True):
            tables = {t: await repo.table_rows(conn, t, discord_id) for t in repo.USER_TABLES}
            user = await repo.user_row(conn, discord_id)
            films = {t: await repo.films_of(conn, t, discord_id) for t in ("watch_history", "feedback", "watchlist")}
        when = datetime.now(UTC)
        document = {
            "discord_id": str(discord_id),
            "exported_at": when.isoformat(),
            "user": user or {},
            "tables": tables,
        }
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", README.replace("{when}", f"{when:%Y-%m-%d %H:%M} UTC"))
            archive.writestr("marquee.json", json.dumps(document, ensure_ascii=False, indent=2))
            archive.writestr("watched.csv", _films_csv(films["watch_history"]))
            rated = [r for r in films["feedback"] if r["rating"] is not None]
            archive.writestr("ratings.csv", _films_csv(rated, ratings=True))
            archive.writestr("watchlist.csv", _films_csv(films["watchlist"]))
        return out.getvalue()

    async def delete(self, discord_id: int) -> None:
        """Every row about the user, in one transaction, and their cached answers. Refused
        (ProStillActive, with the portal link) while a Pro subscription runs and renews."""
        plan = await self._billing.plan(discord_id)
        if plan.tier == "pro" and not plan.cancel_at_period_end:
            portal = await self._billing.portal_url(plan) if self._billing.enabled else None
            raise ProStillActive(portal)
        await self._trakt.revoke(discord_id)  # Marquee's access ends at Trakt too
        async with self._db.transaction() as conn:
            await repo.delete_user(conn, discord_id)
        for key in USER_CACHE_KEYS:
            try:
                await self._cache.delete(key.format(id=discord_id))
            except RedisDown:
                log.warning("cached answers of a deleted user stay until they expire (Redis is down)")


def _films_csv(rows: Sequence[asyncpg.Record], *, ratings: bool = False) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(LETTERBOXD_COLUMNS + (["Rating"] if ratings else []))
    for row in rows:
        line = [f"{row['at']:%Y-%m-%d}", row["title"], row["year"] or "", row["id"]]
        if ratings:
            line.append(f"{row['rating'] / 2:g}")
        writer.writerow(line)
    return out.getvalue()
