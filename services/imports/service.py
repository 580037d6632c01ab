"""Imports: an export read and staged by the bot (`start`), then matched and applied by a worker
(`run`). Matching is in committed batches, so a worker that stops half way resumes where it was
without asking TMDB again for what it matched; applying is one transaction, so the user's
history, ratings and watchlist change all at once, and importing the same file again changes
nothing. TMDB is asked at most once per distinct film, paced under its rate limit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

import aiohttp
import asyncpg
from aiolimiter import AsyncLimiter
from arq.connections import ArqRedis
from redis.exceptions import RedisError

from services.ai.matching import find_film
from services.catalog import MovieCatalog
from services.db import imports as repo
from services.db import profiles
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import FileRefused, ImportRunning, ImportStopped, MarqueeError, MovieNotFound
from services.imports import imdb, letterboxd
from services.imports.answers import AnswerHandle, remember
from services.imports.files import Parsed, check_size, download
from services.imports.report import describe, not_matched_csv
from services.tmdb.models import MovieSummary

log = logging.getLogger(__name__)

BATCH = 40  # films matched between two commits (and two progress reports)
CONCURRENCY = 8
TMDB_RATE = 38.0  # requests a second: under TMDB's ~40 (and its 429s)
STALE = 120.0  # seconds without a heartbeat after which another worker may take an import over


class Reporter(Protocol):
    """Where a running import reports (the interaction, while it can be edited)."""

    async def progress(self, source: str, done: int, total: int) -> None: ...

    async def say(self, text: str) -> None: ...


class Silent:
    async def progress(self, source: str, done: int, total: int) -> None:
        return None

    async def say(self, text: str) -> None:
        return None


# Reads what an import that is not staged yet will stage (Trakt: connect, then read the account).
Preparer = Callable[[int, int, Reporter], Awaitable[Parsed]]


PARSERS: dict[str, Callable[[str, bytes], Parsed]] = {"letterboxd": letterboxd.parse, "imdb": imdb.parse}


@dataclass(frozen=True)
class Upload:
    """A file the user attached, as Discord describes it."""

    filename: str
    size: int
    url: str


@dataclass(frozen=True)
class Staged:
    import_id: int
    source: str
    films: int  # distinct films to match


@dataclass(frozen=True)
class Finished:
    record: repo.ImportRecord
    unmatched: list[tuple[str, int | None]]

    @property
    def text(self) -> str:
        assert self.record.summary is not None
        return describe(self.record.source, self.record.filename, self.record.summary, self.unmatched)

    @property
    def csv(self) -> bytes | None:
        return not_matched_csv(self.unmatched) if self.unmatched else None


class ImportService:
    def __init__(
        self,
        db: Database,
        catalog: MovieCatalog,
        redis: ArqRedis,
        http: aiohttp.ClientSession,
        *,
        rate: float = TMDB_RATE,
        concurrency: int = CONCURRENCY,
        stale: float = STALE,
    ) -> None:
        self._db = db
        self._redis = redis
        self._http = http
        self._stale = stale
        self.preparers: dict[str, Preparer] = {}
        self._catalog = catalog
        self._limiter = AsyncLimiter(1, 1 / rate)  # evenly spaced: no burst above TMDB's limit
        self._gate = asyncio.Semaphore(concurrency)

    async def stage_file(self, discord_id: int, source: str, upload: Upload) -> Staged:
        """Read an attached export and stage it (FileRefused, recorded, when it cannot be used;
        ImportRunning when the user has an import going)."""
        await self.ensure_free(discord_id, source)
        try:
            check_size(upload.size)
            data = await download(self._http, upload.url)
            parsed = await asyncio.to_thread(PARSERS[source], upload.filename, data)
        except FileRefused as exc:
            await self.refuse(discord_id, source, upload.filename, exc.message)
            raise
        import_id = await self.start(discord_id, source, upload.filename, parsed)
        return Staged(import_id, source, len({e.key for e in parsed.entries}))

    async def queue(self, import_id: int, answer: AnswerHandle | None) -> None:
        """Hand a staged import to the worker; `answer` is where it reports while it can. With
        Redis away, the sweep queues it later (and the summary comes by DM)."""
        if answer is not None:
            await remember(self._redis, import_id, answer)
        try:
            await self._redis.enqueue_job("run_import", import_id, _job_id=f"import:{import_id}")
        except (RedisError, OSError) as exc:
            log.warning("import %d left for the sweep: %s", import_id, type(exc).__name__)

    async def start(
        self, discord_id: int, source: str, filename: str | None, parsed: Parsed, *, staged: bool = True
    ) -> int:
        """Stage what was read; the id of the import for the worker to run (ImportRunning when
        the user has one queued or running). Not `staged`: its preparer reads it in the worker."""
        try:
            async with self._db.transaction() as conn:
                await ensure_user(conn, discord_id)
                import_id = await repo.create(conn, discord_id, source, filename, dict(parsed.skipped), staged=staged)
                await repo.stage(conn, import_id, parsed.entries)
        except asyncpg.UniqueViolationError as exc:
            raise ImportRunning(source) from exc
        return import_id

    async def ensure_free(self, discord_id: int, source: str) -> None:
        """ImportRunning when the user has an import queued or running (checked before any work)."""
        async with self._db.connection() as conn:
            running = await repo.running(conn, discord_id)
        if running is not None:
            raise ImportRunning(running.source)

    async def has_running(self, discord_id: int) -> bool:
        async with self._db.connection() as conn:
            return await repo.running(conn, discord_id) is not None

    async def created_at(self, import_id: int) -> datetime:
        async with self._db.connection() as conn:
            record = await repo.get(conn, import_id)
        assert record is not None
        return record.created_at

    async def refuse(self, discord_id: int, source: str, filename: str | None, message: str) -> None:
        """Record a refused import (nothing staged, nothing imported)."""

        async def record(conn: asyncpg.Connection) -> None:
            await ensure_user(conn, discord_id)
            await repo.record_refused(conn, discord_id, source, filename, message)

        await self._db.best_effort("a refused import", record)

    async def run(self, import_id: int, reporter: Reporter | None = None) -> Finished | None:
        """Match what is left and apply the import; None when it is not this worker's to run
        (done already, or another worker is on it) or when it stopped (ImportStopped: said)."""
        reporter = reporter or Silent()
        async with self._db.transaction() as conn:
            record = await repo.claim(conn, import_id, self._stale)
        if record is None:
            return None
        try:
            if not record.staged:
                record = await self._prepare(record, reporter)
            async with self._db.connection() as conn:
                pending = await repo.pending(conn, import_id)
                done, total = await repo.film_counts(conn, import_id)
            await reporter.progress(record.source, done, total)
            for start in range(0, len(pending), BATCH):
                batch = pending[start : start + BATCH]
                await self._match_batch(record, batch)
                done += len(batch)
                await reporter.progress(record.source, done, total)
        except ImportStopped as stopped:
            await self.fail(import_id, stopped.message)
            await reporter.say(stopped.message)
            return None
        except BaseException:
            # Stopped (TMDB down, SIGTERM): the next run takes it up at once, where it was.
            await self._release(import_id)
            raise
        async with self._db.transaction() as conn:
            lists = await repo.apply(conn, import_id, record.discord_id)
            unmatched = await repo.not_matched(conn, import_id)
            summary = {"lists": lists, "skipped": record.skipped, "not_matched": len(unmatched)}
            await repo.finish(conn, import_id, summary)
            await profiles.forget(conn, record.discord_id)  # /foryou's taste profile is made again
        log.info("import %d (%s) done: %s", import_id, record.source, summary)
        return await self.finished(import_id)

    async def _prepare(self, record: repo.ImportRecord, reporter: Reporter) -> repo.ImportRecord:
        parsed = await self.preparers[record.source](record.id, record.discord_id, reporter)
        async with self._db.transaction() as conn:
            await repo.stage(conn, record.id, parsed.entries)
            await repo.mark_staged(conn, record.id, dict(parsed.skipped))
            staged = await repo.get(conn, record.id)
        assert staged is not None
        return staged

    async def finished(self, import_id: int) -> Finished:
        async with self._db.connection() as conn:
            record = await repo.get(conn, import_id)
            unmatched = await repo.not_matched(conn, import_id)
        assert record is not None and record.status == "done"
        return Finished(record, unmatched)

    async def heartbeat(self, import_id: int) -> None:
        """A sign of life from a long step (Trakt's device flow), so no other worker takes it over."""
        async with self._db.transaction() as conn:
            await repo.heartbeat(conn, import_id)

    async def stalled(self) -> list[int]:
        async with self._db.connection() as conn:
            return await repo.stalled(conn, self._stale)

    async def _release(self, import_id: int) -> None:
        try:
            async with self._db.transaction() as conn:
                await repo.release(conn, import_id)
        except Exception as exc:  # the database away too: the claim goes stale and is taken over
            log.warning("import %d not released (%s); it resumes after %.0fs", import_id, exc, self._stale)

    async def fail(self, import_id: int, error: str) -> None:
        async with self._db.transaction() as conn:
            await repo.fail(conn, import_id, error)

    async def _match_batch(self, record: repo.ImportRecord, batch: Sequence[repo.Pending]) -> None:
        """Match a batch and commit what was matched (or found unmatchable). TMDB failing for a
        film is not "no match": it stays pending and the error is raised after the commit."""
        found = await asyncio.gather(*(self._match(record.source, p) for p in batch), return_exceptions=True)
        matches: list[tuple[str, int | None]] = []
        films: list[MovieSummary] = []
        failures: list[BaseException] = []
        for item, film in zip(batch, found, strict=True):
            if isinstance(film, BaseException):
                failures.append(film)
                continue
            matches.append((item.key, film.id if film else None))
            if film is not None:
                films.append(film)
        async with self._db.transaction() as conn:
            new = await self._catalog.store_in(conn, films, None)
            await repo.record_matches(conn, record.id, matches)
            await repo.heartbeat(conn, record.id)
        if new and self._catalog.on_change is not None:
            await self._catalog.on_change(new)  # queued for embedding, as any film entering the catalogue
        for failure in failures:
            if not isinstance(failure, MarqueeError):
                raise failure
        if failures:
            raise failures[0]

    async def _match(self, source: str, item: repo.Pending) -> MovieSummary | None:
        async with self._gate, self._limiter:
            if item.tmdb_id is not None:
                try:
                    return (await self._catalog.details(item.tmdb_id, notify=False)).summary
                except MovieNotFound:
                    return None
            if source == "imdb":
                return await self._catalog.find_imdb(item.key)
            return await find_film(self._catalog, item.name, item.year)
