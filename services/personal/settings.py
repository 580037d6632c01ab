"""/settings: each user's region, language, streaming services, spoiler mode and availability
alerts. Every answer is made with them (`Preferences`); what a user has not chosen is the
server's default (TMDB_REGION, TMDB_LANGUAGE; spoilers and alerts off)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from services.db import user_settings as repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import DatabaseUnavailable, MarqueeError, NotALanguage, NotARegion
from services.text import fold, one_line
from services.tmdb.client import TMDBClient
from services.tmdb.reference import Locale, StreamingService, Translation, WatchRegion

log = logging.getLogger(__name__)
T = TypeVar("T")

CHOICES_DEADLINE = 1.5  # seconds autocomplete waits for TMDB's lists before answering with none


@dataclass(frozen=True)
class Preferences:
    region: str
    language: str
    services: tuple[int, ...] = ()
    spoilers: bool = False
    alerts: bool = False
    chosen: frozenset[str] = field(default_factory=frozenset)  # "region", "language": set by the user, not defaults

    @property
    def locale(self) -> Locale:
        return Locale(self.region, self.language)


class UserSettingsService:
    def __init__(self, db: Database, tmdb: TMDBClient, defaults: Locale) -> None:
        self._db = db
        self._tmdb = tmdb
        self.defaults = defaults

    async def get(self, discord_id: int, defaults: Locale | None = None) -> Preferences:
        """The user's preferences; what they have not chosen is `defaults` (their server's), else
        the bot's. With the database away, the defaults (answers still come)."""
        try:
            return await self.stored(discord_id, defaults)
        except DatabaseUnavailable as exc:
            log.info("settings of %d unavailable, using the defaults: %s", discord_id, exc)
            return self._with(None, defaults)

    async def stored(self, discord_id: int, defaults: Locale | None = None) -> Preferences:
        """The user's preferences as stored (DatabaseUnavailable when they cannot be read)."""
        async with self._db.connection() as conn:
            return self._with(await repo.get(conn, discord_id), defaults)

    async def save(
        self,
        discord_id: int,
        *,
        region: str | None = None,
        language: str | None = None,
        spoilers: bool | None = None,
        alerts: bool | None = None,
    ) -> Preferences:
        """Save what is given (a region or language checked against TMDB's lists first: nothing
        is saved when one is not there). Alerts turned on start from what is true now."""
        changes: dict[str, object] = {}
        if region is not None:
            changes["region"] = (await self.find_region(region)).code
        if language is not None:
            changes["language"] = (await self.find_language(language)).tag
        if spoilers is not None:
            changes["spoilers"] = spoilers
        if alerts is not None:
            changes["alerts"] = alerts
        if not changes:
            return await self.stored(discord_id)
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
            before = await repo.get(conn, discord_id)
            saved = await repo.save(conn, discord_id, changes)
            if saved.alerts and not (before and before.alerts):
                await repo.forget_seen(conn, discord_id)
        return self._with(saved)

    async def choose_services(self, discord_id: int, offered: Sequence[int], chosen: Sequence[int]) -> Preferences:
        """Of the services `offered` (one page of the menu), the user has `chosen`; their services
        elsewhere (another page, another region) stay as they were."""
        if not set(chosen) <= set(offered):
            raise ValueError("a chosen service was not offered")
        async with self._db.transaction() as conn:
            await ensure_user(conn, discord_id)
            before = await repo.get(conn, discord_id)
            kept = [s for s in (before.services if before else ()) if s not in offered]
            saved = await repo.save(conn, discord_id, {"services": [*kept, *chosen]})
        return self._with(saved)

    # ------------------------------------------------------------------ TMDB's lists
    async def regions(self) -> tuple[WatchRegion, ...]:
        return await self._tmdb.watch_regions()

    async def translations(self) -> tuple[Translation, ...]:
        return await self._tmdb.translations()

    async def services_in(self, region: str) -> tuple[StreamingService, ...]:
        return await self._tmdb.streaming_services(region)

    async def find_region(self, text: str) -> WatchRegion:
        """A region by code, English name or label ("gb", "United Kingdom (GB)"); NotARegion else."""
        wanted = fold(one_line(text, 100))
        for region in await self.regions():
            if wanted in (fold(region.code), fold(region.name), fold(region.label)):
                return region
        raise NotARegion(text)

    async def find_language(self, text: str) -> Translation:
        """A primary translation by tag or name ("fr-fr", "French (France)"); NotALanguage else."""
        wanted = fold(one_line(text, 100))
        for translation in await self.translations():
            if wanted in (fold(translation.tag), fold(translation.name), fold(translation.label)):
                return translation
        raise NotALanguage(text)

    async def region_choices(self, text: str, limit: int = 25) -> list[WatchRegion]:
        """Autocomplete: regions whose code or name holds the text, codes matching first."""
        regions = await _in_time(self.regions())
        wanted = fold(text.strip())
        exact = [r for r in regions if fold(r.code) == wanted]
        return (exact + [r for r in regions if wanted in fold(r.label) and r not in exact])[:limit]

    async def language_choices(self, text: str, limit: int = 25) -> list[Translation]:
        translations = await _in_time(self.translations())
        wanted = fold(text.strip())
        return [t for t in translations if wanted in fold(t.label)][:limit]

    def _with(self, stored: repo.StoredSettings | None, defaults: Locale | None = None) -> Preferences:
        defaults = defaults or self.defaults
        if stored is None:
            return Preferences(defaults.region, defaults.language)
        chosen = {name for name, value in (("region", stored.region), ("language", stored.language)) if value}
        return Preferences(
            stored.region or defaults.region,
            stored.language or defaults.language,
            stored.services,
            stored.spoilers,
            stored.alerts,
            frozenset(chosen),
        )


async def _in_time(lookup: Coroutine[Any, Any, tuple[T, ...]]) -> tuple[T, ...]:
    """A list for autocomplete, or none when TMDB is slow or down: it keeps loading behind the
    deadline (into the cache) for the next keystroke."""
    task = asyncio.ensure_future(lookup)
    try:
        return await asyncio.wait_for(asyncio.shield(task), CHOICES_DEADLINE)
    except (TimeoutError, MarqueeError):
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        return ()
