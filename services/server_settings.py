"""/server-settings: a server's defaults for its members (region, language), whether AI
commands run there, and whether answers are public or ephemeral.

Answers need them before the ack, where no database read may happen: every process holds the
settings of its own servers in memory, loaded when its shards connect and updated by
/server-settings. A server's interactions all reach the one process running its shard, so that
process's copy is the one that counts.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from services.db import server_settings as repo
from services.db.pool import Database
from services.personal.settings import UserSettingsService
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)

LOAD_CHUNK = 5000  # servers read per query at start
ANSWERS = ("public", "ephemeral")


@dataclass(frozen=True)
class ServerSettings:
    region: str | None = None  # None: the bot's default
    language: str | None = None
    ai_commands: bool = True
    answers: str = "public"

    @property
    def ephemeral(self) -> bool:
        return self.answers == "ephemeral"

    def locale(self, defaults: Locale) -> Locale:
        """The defaults for a member of this server who has not chosen their own."""
        return Locale(self.region or defaults.region, self.language or defaults.language)


DEFAULT = ServerSettings()


class ServerSettingsService:
    def __init__(self, db: Database, user_settings: UserSettingsService) -> None:
        self._db = db
        self._user_settings = user_settings
        self._held: dict[int, ServerSettings] = {}

    def held(self, guild_id: int | None) -> ServerSettings:
        """A server's settings as this process holds them (instant; the defaults for none)."""
        return self._held.get(guild_id, DEFAULT) if guild_id is not None else DEFAULT

    async def load(self, guild_ids: Iterable[int]) -> int:
        """Hold the stored settings of these servers; returns how many had any."""
        ids = list(guild_ids)
        found = 0
        for start in range(0, len(ids), LOAD_CHUNK):
            async with self._db.connection() as conn:
                stored = await repo.of_guilds(conn, ids[start : start + LOAD_CHUNK])
            for server in stored:
                self._held[server.guild_id] = _settings(server)
            found += len(stored)
        return found

    def forget(self, guild_id: int) -> None:
        """The bot left the server."""
        self._held.pop(guild_id, None)

    async def save(
        self,
        guild_id: int,
        by: int,
        *,
        region: str | None = None,
        language: str | None = None,
        ai_commands: bool | None = None,
        answers: str | None = None,
    ) -> ServerSettings:
        """Save what is given (region and language checked against TMDB's lists first: nothing
        is saved when one is not there), effective at once in this process."""
        changes: dict[str, object] = {}
        if region is not None:
            changes["region"] = (await self._user_settings.find_region(region)).code
        if language is not None:
            changes["language"] = (await self._user_settings.find_language(language)).tag
        if ai_commands is not None:
            changes["ai_commands"] = ai_commands
        if answers is not None:
            if answers not in ANSWERS:
                raise ValueError(f"answers: {answers!r}")
            changes["answers"] = answers
        if not changes:
            await self.load([guild_id])
            return self.held(guild_id)
        async with self._db.transaction() as conn:
            saved = _settings(await repo.save(conn, guild_id, changes, by))
        self._held[guild_id] = saved
        return saved


def _settings(stored: repo.StoredServer) -> ServerSettings:
    return ServerSettings(stored.region, stored.language, stored.ai_commands, stored.answers)
