"""Search by meaning over the embedded catalogue: /similar, /semantic and /foryou's re-ranking.

Every search leaves out the user's watched films and adult films inside the index scan (see
services/db/embeddings.py), so a page is always full when the catalogue has enough films.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg
import numpy as np
from pydantic import TypeAdapter

from services.ai.budget import UserLimits
from services.ai.matching import Pick
from services.cache import Cache
from services.catalog import MovieCatalog, clean_query
from services.db import embeddings as store
from services.db import feedback, history
from services.db import movies as movie_repo
from services.db.pool import Database
from services.db.users import ensure_user
from services.embeddings.client import REQUEST_PATH, Matrix, Space, normalised
from services.embeddings.pipeline import EmbeddingService
from services.errors import (
    AIDisabled,
    DatabaseUnavailable,
    EmbeddingsUnavailable,
    NoEmbeddings,
    NoResults,
    NoSimilar,
    NoWords,
)
from services.metrics import Metrics
from services.text import fold, same_question
from services.tmdb.models import MovieDetails, MovieSummary

log = logging.getLogger(__name__)

PAGE = 10
QUERY_TTL = 7 * 24 * 3600.0
DISLIKE_WEIGHT = 0.5  # how strongly a pick near the 👎 films is pushed down, against the pull of the liked
QUERY_VERSION = 2
NEAR_DUPLICATE = 0.97  # cosine similarity above which a pick is the same film as one watched
VECTOR_CODEC = TypeAdapter(str)  # a query's vector, as base64 of little-endian float32


@dataclass(frozen=True, slots=True)
class Hit:
    film: MovieSummary
    similarity: float | None  # None for TMDB's own recommendations


@dataclass(frozen=True)
class SimilarFilms:
    source: MovieDetails
    hits: tuple[Hit, ...]
    fallback: str | None  # why these are TMDB's recommendations instead; None: by embedding


@dataclass(frozen=True)
class SemanticAnswer:
    query: str
    hits: tuple[Hit, ...]
    search_id: int | None  # its search_history row; None when the database could not store it


class SimilarityService:
    def __init__(
        self,
        embeddings: EmbeddingService,
        *,
        db: Database,
        catalog: MovieCatalog,
        cache: Cache,
        limits: UserLimits,
        metrics: Metrics,
    ) -> None:
        self.embeddings = embeddings
        self._db = db
        self._catalog = catalog
        self._cache = cache
        self._limits = limits
        self._metrics = metrics

    async def similar(self, discord_id: int, film: MovieDetails, *, ai: bool = True) -> SimilarFilms:
        """The films nearest `film`; TMDB's recommendations when it cannot be embedded now, or
        where AI may not be used (`ai`: a server turned AI commands off)."""
        exclude = (film.id, *await self._excluded(discord_id))
        if not ai:
            return await self._recommended(film, exclude, "AI commands are off in this server")
        try:
            space, vector = await self.embeddings.film_vector(film.id)
        except AIDisabled:
            return await self._recommended(film, exclude, "AI similarity is off on this bot")
        except EmbeddingsUnavailable as exc:
            log.info("/similar fell back to TMDB for film %d: %s", film.id, exc)
            return await self._recommended(film, exclude, "the AI couldn't be reached just now")
        hits = await self._nearest(space, vector, store.Filters(exclude=exclude), "similar")
        if not hits:
            return await self._recommended(film, exclude, "the catalogue isn't indexed yet")
        return SimilarFilms(film, hits, None)

    async def semantic(self, discord_id: int, text: str) -> SemanticAnswer:
        query = clean_query(text)
        if not fold(query).strip("_ "):
            raise NoWords()
        self.embeddings.require()
        await self._limits.admit(discord_id)
        space = await self.embeddings.active_space()
        vector = await self._query_vector(query, space)
        excluded = await self._excluded(discord_id)
        hits = await self._nearest(space, vector, store.Filters(exclude=tuple(excluded)), "semantic")
        if not hits:
            async with self._db.connection() as conn:
                raise NoEmbeddings() if not await store.count(conn, space) else NoResults(query)

        async def save(conn: asyncpg.Connection) -> int:
            await ensure_user(conn, discord_id)
            return await history.add_search(conn, discord_id, "semantic", query, movie_ids=[h.film.id for h in hits])

        return SemanticAnswer(query, hits, await self._db.best_effort("a /semantic history row", save))

    async def rerank(
        self, picks: Sequence[Pick], watched: Sequence[int], liked: Sequence[int] = (), disliked: Sequence[int] = ()
    ) -> tuple[Pick, ...]:
        """`picks` closest first to the centroid of the watched and 👍 films' vectors (and away
        from the 👎 ones'), less those that are near-duplicates of a watched film; as they were
        when too few vectors are known."""
        if not self.embeddings.enabled or not (watched or liked) or not picks:
            return tuple(picks)
        started = time.perf_counter()
        try:
            space = await self.embeddings.active_space()
            async with self._db.connection() as conn:
                wanted = [*watched, *liked, *disliked, *(p.film.id for p in picks)]
                known = await store.vectors_of(conn, space, wanted)
        except DatabaseUnavailable as exc:  # the picks are good as they are; the order is a bonus
            log.info("/foryou picks not re-ranked: %s", exc)
            return tuple(picks)
        self._metrics.vector_search_latency.labels("rerank").observe(time.perf_counter() - started)
        seen = [known[i] for i in watched if i in known]
        toward = [known[i] for i in dict.fromkeys([*watched, *liked]) if i in known]
        away = [known[i] for i in disliked if i in known]
        if not toward:
            return tuple(picks)
        return rank_by_taste(
            picks,
            np.vstack(toward),
            known,
            watched=np.vstack(seen) if seen else None,
            disliked=np.vstack(away) if away else None,
        )

    async def _nearest(self, space: Space, vector: np.ndarray, filters: store.Filters, kind: str) -> tuple[Hit, ...]:
        started = time.perf_counter()
        async with self._db.connection() as conn:
            neighbours = await store.nearest(conn, space, vector, filters, PAGE)
            films = await movie_repo.by_ids(conn, [n.movie_id for n in neighbours])
        self._metrics.vector_search_latency.labels(kind).observe(time.perf_counter() - started)
        return tuple(Hit(films[n.movie_id], n.similarity) for n in neighbours if n.movie_id in films)

    async def _recommended(self, film: MovieDetails, exclude: Sequence[int], why: str) -> SimilarFilms:
        page = await self._catalog.recommendations(film.id)
        skip = set(exclude)
        hits = tuple(Hit(f, None) for f in page.results if f.id not in skip)[:PAGE]
        if not hits:
            raise NoSimilar(film.summary.label)
        return SimilarFilms(film, hits, why)

    async def _query_vector(self, query: str, space: Space) -> np.ndarray:
        """The query's vector, cached by the question as asked again would find it (case,
        spacing and surrounding punctuation aside: accents and emoji change its meaning) and the
        space."""
        normal = same_question(query)
        digest = hashlib.sha256(f"{space}\n{normal}".encode()).hexdigest()[:32]
        embedder = self.embeddings.require()

        async def load() -> str:
            vector = (await embedder.embed([normal], space, purpose="query", policy=REQUEST_PATH))[0]
            return base64.b64encode(vector.astype("<f4").tobytes()).decode()

        key = f"emb:query:v{QUERY_VERSION}:{digest}"
        encoded, _ = await self._cache.get_or_load(key, QUERY_TTL, load, VECTOR_CODEC)
        return np.frombuffer(base64.b64decode(encoded), dtype="<f4").astype(np.float32)

    async def _excluded(self, discord_id: int) -> list[int]:
        """What the user never sees here: the films they watched or 👎'd."""
        async with self._db.connection() as conn:
            watched = await history.watched_ids(conn, discord_id)
            disliked = await feedback.disliked_ids(conn, discord_id)
        return list(dict.fromkeys([*watched, *disliked]))


def rank_by_taste(
    picks: Sequence[Pick],
    liked: Matrix,
    known: dict[int, np.ndarray],
    *,
    watched: Matrix | None = None,
    disliked: Matrix | None = None,
) -> tuple[Pick, ...]:
    """Picks with a vector, nearest the centroid of the `liked` vectors (watched and 👍) first,
    less half their closeness to the 👎 centroid; then the others in the order they came. A pick
    nearly identical to a `watched` film (default: the liked ones) is dropped."""
    centroid = normalised(normalised(liked.astype(np.float32)).mean(axis=0, keepdims=True))[0]
    seen = normalised((liked if watched is None else watched).astype(np.float32))
    away = None
    if disliked is not None:
        away = normalised(normalised(disliked.astype(np.float32)).mean(axis=0, keepdims=True))[0]
    scored: list[tuple[float, int, Pick]] = []
    unknown: list[Pick] = []
    for order, pick in enumerate(picks):
        vector = known.get(pick.film.id)
        if vector is None:
            unknown.append(pick)
            continue
        unit = vector / (np.linalg.norm(vector) or 1.0)
        if float(np.max(seen @ unit)) >= NEAR_DUPLICATE:
            log.info("dropped /foryou pick %d: a near-duplicate of a watched film", pick.film.id)
            continue
        score = float(unit @ centroid) - (DISLIKE_WEIGHT * float(unit @ away) if away is not None else 0.0)
        scored.append((-score, order, pick))
    return tuple(p for _, _, p in sorted(scored, key=lambda s: (s[0], s[1]))) + tuple(unknown)
