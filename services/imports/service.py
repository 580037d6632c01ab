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
from services.errors import FileRefused, ImportRunning, ImportStopped, MovieNotFound
from services.imports import imdb, letterboxd
from services.imports.answers import AnswerHandle, remember
from services.imports.files import Parsed, check_size, download
from services.imports.report import describe, not_matched_csv
from services.tmdb.models import MovieSummary

log = logging.getLogger(__name__)

BATCH = 40  # films matched between two commits (and two progress reports)
WINDOW = 16  # films asked for at once (each waits its turn at TMDB's pace)
CONCURRENCY = 8
TMDB_RATE = 37.0  # requests a second: under TMDB's ~40 (and its 429s), with a margin for jitter
STALE = 120.0  # seconds without a heartbeat after which another worker may take an import over


Matched = tuple[repo.Pending, MovieSummary | None]  # a film of the import and its match (None: none)


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
Preparer = Callable[[repo.ImportRecord, Reporter], Awaitable[Parsed]]


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
        # Evenly spaced, with room for one call that is late (a busy event loop) to be made up:
        # never more than rate + 1 in any second.
        self._limiter = AsyncLimiter(2, 2 / rate)
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
            await self._match_all(record, pending, reporter, done, total)
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
        parsed = await self.preparers[record.source](record, reporter)
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

    async def _match_all(
        self, record: repo.ImportRecord, pending: Sequence[repo.Pending], reporter: Reporter, done: int, total: int
    ) -> None:
        """Match every pending film, TMDB kept busy at its pace the whole time (the next films are
        asked while a batch commits), committing every BATCH films matched. TMDB failing for a
        film is not "no match": no new film is started, what was matched is committed, and the
        error is raised (the film stays pending for the next run)."""
        results: list[Matched] = []
        failure: BaseException | None = None
        waiting = iter(pending)
        running: set[asyncio.Task[Matched]] = set()

        async def one(item: repo.Pending) -> Matched:
            return item, await self._match(record.source, item)

        try:
            while True:
                while failure is None and len(running) < WINDOW and (item := next(waiting, None)) is not None:
                    running.add(asyncio.create_task(one(item)))
                if not running:
                    break
                finished, running = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for task in finished:
                    if task.exception() is not None:
                        failure = failure or task.exception()
                    else:
                        results.append(task.result())
                if len(results) >= BATCH or (not running and results):
                    done += len(results)
                    await self._commit(record, results)
                    results = []
                    await reporter.progress(record.source, done, total)
        finally:
            for task in running:
                task.cancel()
            await asyncio.gather(*running, return_exceptions=True)
        if failure is not None:
            raise failure

    async def _commit(
        self, record: repo.ImportRecord, results: Sequence[tuple[repo.Pending, MovieSummary | None]]
    ) -> None:
        """Store the films matched and record the matches (None: unmatched), with a heartbeat."""
        films = [film for _, film in results if film is not None]
        async with self._db.transaction() as conn:
            new = await self._catalog.store_in(conn, films, None)
            await repo.record_matches(
                conn, record.id, [(item.key, film.id if film else None) for item, film in results]
            )
            await repo.heartbeat(conn, record.id)
        if new and self._catalog.on_change is not None:
            await self._catalog.on_change(new)  # queued for embedding, as any film entering the catalogue

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
