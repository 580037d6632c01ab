"""The catalogue embeds itself: films entering `movies` are queued, the worker embeds them in
batches, a sweep finds any whose job was lost, and a new model or size takes over only once it
covers what the old one did.

- Queue: a Redis set of film ids (`marquee:embed:pending`) and one arq job, `embed_pending`,
  with a fixed `_job_id`, so a burst of new films is one job, not one per page. The request path
  only adds to the set (fast, and with Redis down it skips: the sweep will find the film).
- The job reads a batch from the set, fetches each film's details through the cached TMDB
  client, skips every film whose text hash is already stored for the space (the same text is
  never embedded twice), embeds the rest in one request, stores them in one transaction, and
  only then takes the batch off the set. A crash mid-batch leaves the batch queued; running it
  again stores each film once (upsert) and calls the API only for what is not stored.
- The sweep (cron) queues every film of the catalogue without a vector in the configured space.
- Spaces: searches use the active space (in `app_state`). When OPENAI_EMBEDDING_MODEL or
  EMBEDDING_DIMENSIONS changes, the configured space is filled in the background and becomes
  active once every film the old space had is in it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import cast

import numpy as np
from arq.connections import ArqRedis
from redis.asyncio import Redis

from services.catalog import MovieCatalog
from services.db import embeddings as store
from services.db.pool import Database
from services.db.state import get_state, set_state
from services.embeddings.client import BACKGROUND, REQUEST_PATH, Embedder, Matrix, Space
from services.embeddings.text import content_hash, film_text
from services.errors import AIDisabled, MarqueeError, MovieNotFound
from services.redis_circuit import RedisCircuit, RedisDown
from services.tmdb.models import MovieDetails

log = logging.getLogger(__name__)

PENDING_KEY = "marquee:embed:pending"
JOB_ID = "embed-pending"
JOB_DELAY = 2.0  # seconds a queued job waits, so that the pages of one burst share a request
BATCH = 500  # films per round: one embeddings request, well within 2048 inputs and 300k tokens
DETAILS_IN_FLIGHT = 8
SWEEP_LIMIT = 20_000
ACTIVE_TTL = 5.0  # seconds a process trusts its copy of the active space


@dataclass
class Report:
    embedded: int = 0
    unchanged: int = 0  # the text's hash was stored already: no API call
    dropped: list[int] = field(default_factory=list)  # not embeddable (gone from TMDB, adult)
    failed: list[int] = field(default_factory=list)  # TMDB did not answer: left queued

    def add(self, other: Report) -> None:
        self.embedded += other.embedded
        self.unchanged += other.unchanged
        self.dropped.extend(other.dropped)
        self.failed.extend(other.failed)


class EmbeddingQueue:
    """The request path's side: new films are queued; nothing here waits on the worker."""

    def __init__(self, circuit: RedisCircuit) -> None:
        self._circuit = circuit

    async def add(self, movie_ids: Iterable[int]) -> bool:
        """Queue films; False when Redis is down (the sweep will find them)."""
        ids = [str(i) for i in movie_ids]
        if not ids:
            return True
        try:
            await self._circuit.run(partial(_add, ids))
            await self._circuit.run(
                lambda redis: cast(ArqRedis, redis).enqueue_job("embed_pending", _job_id=JOB_ID, _defer_by=JOB_DELAY)
            )
        except RedisDown:
            log.info("Redis is down: %d films will be embedded after the next sweep", len(ids))
            return False
        return True

    async def pending(self) -> int:
        return await self._circuit.run(_size)


class EmbeddingService:
    def __init__(
        self,
        embedder: Embedder | None,
        *,
        db: Database,
        catalog: MovieCatalog,
        queue: EmbeddingQueue,
        circuit: RedisCircuit,
        configured: Space,
        batch: int = BATCH,
    ) -> None:
        self.embedder = embedder
        self._db = db
        self._catalog = catalog
        self.queue = queue
        self._circuit = circuit
        self.configured = store.checked(configured)
        self.batch = batch
        self._active: tuple[float, Space] | None = None
        self._index_ready = False  # seen valid by this process (another may be building it)

    @property
    def enabled(self) -> bool:
        return self.embedder is not None

    def require(self) -> Embedder:
        if self.embedder is None:
            raise AIDisabled()
        return self.embedder

    # ------------------------------------------------------------------ spaces
    async def active_space(self, *, fresh: bool = False) -> Space:
        """The space searches use: the configured one, unless an older one is still active
        because the configured one does not cover it yet. Read at most every ACTIVE_TTL
        seconds (another process may switch it), or now when `fresh`."""
        now = time.monotonic()
        if not fresh and self._active is not None and now - self._active[0] < ACTIVE_TTL:
            return self._active[1]
        async with self._db.connection() as conn:
            stored = await get_state(conn, store.ACTIVE_SPACE_KEY)
        space = parse_space(stored) or self.configured
        self._active = (now, space)
        return space

    async def maybe_switch(self) -> bool:
        """Make the configured space active once it covers the active one; True when it did."""
        async with self._db.transaction() as conn:
            stored = parse_space(await get_state(conn, store.ACTIVE_SPACE_KEY))
            if stored == self.configured:
                return False
            if stored is not None:
                behind = await store.left_behind(conn, stored, self.configured)
                if behind:
                    log.info("re-embedding into %s: %d films to go, %s stays on", self.configured, behind, stored)
                    return False
            await set_state(conn, store.ACTIVE_SPACE_KEY, f"{self.configured.model}\n{self.configured.dimensions}")
        self._active = None
        if stored is not None:
            log.info("searches now use %s (was %s)", self.configured, stored)
        return True

    async def prepare(self) -> None:
        """The configured space's index, once a process (instant while the space is empty,
        which it is when first used)."""
        if self._index_ready:
            return
        async with self._db.connection() as conn:
            if await store.ensure_index(conn, self.configured):
                log.info("created the HNSW index for %s", self.configured)
            self._index_ready = await store.has_index(conn, self.configured)

    # ------------------------------------------------------------------ the worker's side
    async def run_pending(self) -> Report:
        """Embed what is queued, batch after batch, until the queue is empty (the arq job).
        EmbeddingsUnavailable propagates (the job is retried); what failed on TMDB stays queued."""
        embedder = self.require()
        await self.prepare()
        report = Report()
        skip: set[int] = set()
        while True:
            queued = await self._circuit.run(partial(_some, self.batch + len(skip)))
            ids = [i for i in queued if i not in skip][: self.batch]
            if not ids:
                break
            done = await self.embed_films(embedder, ids, self.configured)
            if finished := [str(i) for i in ids if i not in done.failed]:
                await self._circuit.run(partial(_remove, finished))
            skip.update(done.failed)
            report.add(done)
        await self.maybe_switch()
        return report

    async def sweep(self) -> int:
        """Queue every film without a vector in the configured space; how many were queued."""
        if self.embedder is None:
            return 0
        await self.prepare()
        async with self._db.connection() as conn:
            ids = await store.missing(conn, self.configured, SWEEP_LIMIT)
        if ids:
            await self.queue.add(ids)
        await self.maybe_switch()
        return len(ids)

    async def embed_films(self, embedder: Embedder, movie_ids: Sequence[int], space: Space) -> Report:
        """Fetch, describe, embed (only texts not stored yet) and store `movie_ids` in `space`."""
        report = Report()
        films = await self._details(movie_ids, report)
        if report.dropped:
            # Never found by a search again, in any space (nor holding back a switch of spaces).
            async with self._db.transaction() as conn:
                await store.forget(conn, report.dropped)
        texts = {film.id: film_text(film) for film in films}
        async with self._db.connection() as conn:
            stored = await store.stored_hashes(conn, space, list(texts))
        todo = [film for film in films if stored.get(film.id) != content_hash(texts[film.id])]
        report.unchanged = len(films) - len(todo)
        if todo:
            vectors = await embedder.embed(
                [texts[f.id] for f in todo],
                space,
                purpose="catalog",
                policy=BACKGROUND,
            )
            rows = [_row(film, texts[film.id], vector) for film, vector in zip(todo, vectors, strict=True)]
            async with self._db.transaction() as conn:
                await store.upsert(conn, space, rows)
            report.embedded = len(rows)
        return report

    async def _details(self, movie_ids: Sequence[int], report: Report) -> list[MovieDetails]:
        gate = asyncio.Semaphore(DETAILS_IN_FLIGHT)

        async def one(movie_id: int) -> MovieDetails | None:
            async with gate:
                try:
                    film = await self._catalog.details(movie_id, notify=False)
                except MovieNotFound:
                    report.dropped.append(movie_id)
                    return None
                except MarqueeError as exc:
                    log.info("could not fetch film %d to embed it: %s", movie_id, exc)
                    report.failed.append(movie_id)
                    return None
            if film.summary.adult:
                report.dropped.append(movie_id)
                return None
            return film

        found = await asyncio.gather(*(one(i) for i in movie_ids))
        return [film for film in found if film is not None]

    # ------------------------------------------------------------------ the request path's side
    async def film_vector(self, movie_id: int) -> tuple[Space, np.ndarray]:
        """A film's vector in the active space, embedded on the spot when it has none yet.
        AIDisabled or EmbeddingsUnavailable when that cannot be done now."""
        space = await self.active_space()
        async with self._db.connection() as conn:
            found = await store.vectors_of(conn, space, [movie_id])
        if movie_id in found:
            return space, found[movie_id]
        embedder = self.require()
        film = await self._catalog.details(movie_id)
        if film.summary.adult:
            raise MovieNotFound(movie_id)
        text = film_text(film)
        vector = (await embedder.embed([text], space, purpose="film", policy=REQUEST_PATH))[0]
        async with self._db.transaction() as conn:
            await store.upsert(conn, space, [_row(film, text, vector)])
        return space, vector


# The pending set's operations (redis-py's types cover its sync and async clients at once).
async def _add(ids: list[str], redis: Redis) -> int:
    return int(await cast(Awaitable[int], redis.sadd(PENDING_KEY, *ids)))


async def _remove(ids: list[str], redis: Redis) -> int:
    return int(await cast(Awaitable[int], redis.srem(PENDING_KEY, *ids)))


async def _some(count: int, redis: Redis) -> list[int]:
    return [int(i) for i in await cast(Awaitable[list[bytes]], redis.srandmember(PENDING_KEY, count))]


async def _size(redis: Redis) -> int:
    return int(await cast(Awaitable[int], redis.scard(PENDING_KEY)))


def _row(film: MovieDetails, text: str, vector: Matrix) -> store.EmbeddingRow:
    return store.EmbeddingRow(film.id, content_hash(text), vector, film.summary.year, film.summary.adult)


def parse_space(value: str | None) -> Space | None:
    """The space stored in app_state (the model, a newline, the dimensions), or None."""
    if not value or "\n" not in value:
        return None
    model, dimensions = value.rsplit("\n", 1)
    return Space(model, int(dimensions)) if dimensions.isdigit() else None
