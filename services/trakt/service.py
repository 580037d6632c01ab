"""Trakt: connecting an account (OAuth device flow, polled by the import's worker job), reading its
films into an import, the hourly sync of what is new, and disconnecting. Tokens are stored
encrypted (Fernet, MARQUEE_SECRET_KEY); the refresh token is single-use, so each refresh stores
the new pair in the same transaction that read the old one."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from arq.connections import ArqRedis
from cryptography.fernet import Fernet, InvalidToken
from redis.exceptions import RedisError

from services.db import notices as notices_repo
from services.db import trakt as repo
from services.db.imports import ImportRecord
from services.db.pool import Database
from services.errors import ImportStopped, MarqueeError, TraktOff, TraktUnavailable
from services.imports import imdb
from services.imports.files import NAME_MAX, Entry, Parsed
from services.imports.notices import TRAKT_BROKEN
from services.imports.service import ImportService, Reporter
from services.notices import Outbox
from services.text import one_line
from services.trakt.client import DeviceCode, DeviceRefused, Pending, Tokens, TraktAPI, TraktRevoked

log = logging.getLogger(__name__)

REFRESH_MARGIN = timedelta(hours=6)  # refresh a token this long before it expires (the sync is hourly)
SLOW_DOWN = 5  # seconds added to the polling interval when Trakt says slow_down (RFC 8628)
DEVICE_STOPS = {
    "expired": "⌛ The Trakt code expired before it was entered. Run `/import trakt` again for a new one.",
    "denied": "🚫 The Trakt connection was declined, so nothing was imported.",
    "invalid": "❌ Trakt no longer knows that code. Run `/import trakt` again for a new one.",
    "used": "❌ That Trakt code was already used. Run `/import trakt` again for a new one.",
}

Sleep = Callable[[float], Awaitable[None]]


@dataclass
class SyncReport:
    checked: int = 0
    unchanged: int = 0
    synced: int = 0
    busy: int = 0  # an import of theirs was running: next hour
    broken: int = 0
    failed: int = 0
    added: dict[str, int] = field(default_factory=lambda: {"watched": 0, "rating": 0, "watchlist": 0})

    @property
    def summary(self) -> str:
        added = ", ".join(f"{n:,} {k}" for k, n in self.added.items())
        return (
            f"{self.checked} Trakt users checked: {self.unchanged} unchanged (skipped), {self.synced} synced"
            f" (added {added}), {self.busy} busy with an import, {self.broken} disconnected, {self.failed} failed"
        )


def movies_activity(activities: dict[str, Any]) -> dict[str, Any]:
    """What says the user's films changed: Trakt's last_activities for movies."""
    movies = activities.get("movies")
    return movies if isinstance(movies, dict) else {}


def entries_from(
    history: list[dict[str, Any]],
    ratings: list[dict[str, Any]],
    watchlist: list[dict[str, Any]],
    since: datetime | None = None,
) -> Parsed:
    """Trakt's items as import entries: TMDB ids carried, no matching; an item without one is skipped."""
    parsed = Parsed()

    def add(kind: str, item: dict[str, Any], when_field: str, rating: int | None = None) -> None:
        movie = _dict(item.get("movie"))
        ids = _dict(movie.get("ids"))
        tmdb_id = ids.get("tmdb")
        at = _moment(item.get(when_field))
        if since is not None and at is not None and at <= since:
            return
        if not isinstance(tmdb_id, int) or isinstance(tmdb_id, bool) or not 0 < tmdb_id < 2**31:
            parsed.skip("no TMDB id on Trakt")
            return
        name = one_line(movie.get("title") or "", NAME_MAX) or f"TMDB {tmdb_id}"
        year = movie.get("year") if isinstance(movie.get("year"), int) else None
        verdict = imdb.verdict(rating) if rating is not None else None
        parsed.entries.append(
            Entry(kind, name, year, f"tmdb:{tmdb_id}", rating=rating, verdict=verdict, at=at, tmdb_id=tmdb_id)
        )

    for item in history:
        add("watched", item, "watched_at")
    for item in ratings:
        value = item.get("rating")
        if not isinstance(value, int) or not 1 <= value <= 10:
            parsed.skip("the rating is out of range")
            continue
        add("rating", item, "rated_at", value)
    for item in watchlist:
        add("watchlist", item, "listed_at")
    return parsed


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _moment(value: Any) -> datetime | None:
    """Trakt's ISO 8601 time (UTC when it names no zone); None when absent or not a time."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class TraktService:
    def __init__(
        self,
        api: TraktAPI | None,
        secret_key: str | None,
        *,
        db: Database,
        redis: ArqRedis,
        imports: ImportService,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._api = api
        self._cipher = Fernet(secret_key.encode()) if api is not None and secret_key else None
        self._db = db
        self._redis = redis
        self._imports = imports
        self.sleep = sleep  # the clock the device flow polls by (tests count the waits)
        imports.preparers["trakt"] = self._prepare

    @property
    def enabled(self) -> bool:
        return self._api is not None and self._cipher is not None

    def _require(self) -> TraktAPI:
        if self._api is None or self._cipher is None:
            raise TraktOff()
        return self._api

    # ---------------------------------------------------------------- connecting
    async def start(self, discord_id: int) -> tuple[int, DeviceCode]:
        """A device code for the user to enter at Trakt, and the import it will fill."""
        api = self._require()
        await self._imports.ensure_free(discord_id, "trakt")
        code = await api.device_code()
        import_id = await self._imports.start(discord_id, "trakt", None, Parsed(), staged=False)
        state = {"device_code": code.device_code, "interval": code.interval, "until": time.time() + code.expires_in}
        try:
            await self._redis.set(f"trakt:device:{import_id}", json.dumps(state), ex=code.expires_in)
        except (RedisError, OSError) as exc:
            await self._imports.fail(import_id, "Redis unavailable")
            raise TraktUnavailable("Marquee could not hold the code (Redis)") from exc
        return import_id, code

    async def _prepare(self, record: ImportRecord, reporter: Reporter) -> Parsed:
        """The worker's part of connecting: wait for the user's approval, store the tokens, read
        their films. ImportStopped when the code expired or was declined."""
        api = self._require()
        discord_id = record.discord_id
        async with self._db.connection() as conn:
            link = await repo.get(conn, discord_id)
        ours = link is not None and not link.broken and link.created_at >= record.created_at
        fresh = await self._fresh_access(api, discord_id) if ours else None
        if fresh is not None:
            access = fresh[1]  # connected by this import already (a run that stopped after it)
        else:
            tokens = await self._poll(api, record.id)
            sealed = self._seal(tokens.access_token), self._seal(tokens.refresh_token)
            async with self._db.transaction() as conn:
                await repo.save_link(conn, discord_id, *sealed, tokens.expires_at)
            access = tokens.access_token
            await reporter.say("✅ Connected to Trakt. Reading your films…")
        activities = movies_activity(await api.last_activities(access))
        parsed = await self._read(api, access, since=None)
        async with self._db.transaction() as conn:
            await repo.mark_synced(conn, discord_id, activities, datetime.now(UTC))
        return parsed

    async def _poll(self, api: TraktAPI, import_id: int) -> Tokens:
        try:
            raw = await self._redis.get(f"trakt:device:{import_id}")
        except (RedisError, OSError) as exc:
            raise TraktUnavailable("Redis unavailable") from exc
        if raw is None:
            raise ImportStopped(DEVICE_STOPS["expired"])
        state = json.loads(raw)
        interval = float(state["interval"])
        while time.time() < float(state["until"]):
            await self.sleep(interval)
            await self._imports.heartbeat(import_id)
            try:
                return await api.device_token(state["device_code"])
            except Pending as pending:
                if pending.slow_down:
                    interval += SLOW_DOWN
            except DeviceRefused as refused:
                raise ImportStopped(DEVICE_STOPS[refused.reason]) from refused
        raise ImportStopped(DEVICE_STOPS["expired"])

    async def _read(self, api: TraktAPI, access: str, since: datetime | None) -> Parsed:
        params = {"start_at": since.isoformat().replace("+00:00", "Z")} if since else None
        history = await api.every_page("/sync/history/movies", access, params)
        ratings = await api.every_page("/sync/ratings/movies", access)
        watchlist = await api.every_page("/sync/watchlist/movies", access)
        return entries_from(history, ratings, watchlist, since)

    # ---------------------------------------------------------------- the hourly sync
    async def sync_all(self) -> SyncReport:
        """What was watched, rated or listed on Trakt since each user's last sync; users whose
        last_activities have not changed cost one request."""
        report = SyncReport()
        if not self.enabled:
            return report
        async with self._db.connection() as conn:
            users = await repo.connected(conn)
        for discord_id in users:
            report.checked += 1
            try:
                await self._sync_one(discord_id, report)
            except TraktRevoked as exc:
                report.broken += 1
                await self._broken(discord_id, str(exc))
            except MarqueeError as exc:
                report.failed += 1
                log.warning("Trakt sync of a user failed: %s", exc)
        return report

    async def _sync_one(self, discord_id: int, report: SyncReport) -> None:
        api = self._require()
        if await self._imports.has_running(discord_id):
            report.busy += 1
            return
        fresh = await self._fresh_access(api, discord_id)
        if fresh is None:
            return
        link, access = fresh
        activities = movies_activity(await api.last_activities(access))
        if link.activities == activities:
            report.unchanged += 1
            return
        started = datetime.now(UTC)
        parsed = await self._read(api, access, since=link.synced_at)
        if parsed.entries:
            import_id = await self._imports.start(discord_id, "trakt", None, parsed)
            finished = await self._imports.run(import_id)
            if finished is not None and finished.record.summary:
                for kind, counts in finished.record.summary["lists"].items():
                    report.added[kind] += counts["added"]
        async with self._db.transaction() as conn:
            await repo.mark_synced(conn, discord_id, activities, started)
        report.synced += 1

    async def _fresh_access(self, api: TraktAPI, discord_id: int) -> tuple[repo.Link, str] | None:
        """The user's working connection and its access token, refreshed first when it expires
        soon (the new pair stored in the transaction that locked the old one: a refresh token
        works once); None when there is none."""
        async with self._db.transaction() as conn:
            link = await repo.get(conn, discord_id, lock=True)
            if link is None or link.broken:
                return None
            if link.expires_at - datetime.now(UTC) > REFRESH_MARGIN:
                return link, self._open(link.access_token)
            tokens = await api.refresh(self._open(link.refresh_token))
            sealed = self._seal(tokens.access_token), self._seal(tokens.refresh_token)
            await repo.save_tokens(conn, discord_id, *sealed, tokens.expires_at)
            return link, tokens.access_token

    async def _broken(self, discord_id: int, reason: str) -> None:
        """Stop syncing a connection Trakt refuses, and tell the user once."""
        async with self._db.transaction() as conn:
            link = await repo.get(conn, discord_id)
            first = await repo.mark_broken(conn, discord_id, reason)
            notice = None
            if first and link is not None:
                key = f"trakt:{discord_id}:broken:{link.created_at.timestamp():.0f}"
                notice = await notices_repo.add_notice(conn, discord_id, TRAKT_BROKEN, key)
        if notice is not None:
            await Outbox(self._redis).enqueue([notice])
        log.info("a Trakt connection stopped syncing: %s", reason)

    # ---------------------------------------------------------------- disconnecting
    async def disconnect(self, discord_id: int) -> bool:
        """Revoke the token at Trakt (best effort) and delete it; False when there was none."""
        await self.revoke(discord_id)
        async with self._db.transaction() as conn:
            return await repo.delete(conn, discord_id) is not None

    async def revoke(self, discord_id: int) -> None:
        if self._api is None or self._cipher is None:
            return
        async with self._db.connection() as conn:
            link = await repo.get(conn, discord_id)
        if link is None:
            return
        try:
            await self._api.revoke(self._open(link.access_token))
        except (TraktUnavailable, TraktRevoked, InvalidToken) as exc:
            log.info("Trakt token not revoked at Trakt (%s); deleted here all the same", type(exc).__name__)

    def _seal(self, token: str) -> str:
        assert self._cipher is not None
        return self._cipher.encrypt(token.encode()).decode()

    def _open(self, sealed: str) -> str:
        assert self._cipher is not None
        try:
            return self._cipher.decrypt(sealed.encode()).decode()
        except InvalidToken as exc:  # MARQUEE_SECRET_KEY changed: the user must connect again
            raise TraktRevoked("the stored token cannot be decrypted with MARQUEE_SECRET_KEY") from exc
