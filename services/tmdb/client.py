"""TMDB v3 over one aiohttp session: bearer auth, timeouts, bounded retries honouring Retry-After,
and a Redis cache with single-flight in front of every GET."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import aiohttp
from pydantic import TypeAdapter

from services.backoff import retry_after_seconds
from services.cache import Cache
from services.errors import MovieNotFound, TMDBAuthError, TMDBUnavailable
from services.metrics import Metrics
from services.tmdb.models import ImageConfig, MovieDetails, MoviePage, found_films, genre_names, noting_bad_data
from services.tmdb.reference import (
    StreamingService,
    Translation,
    WatchRegion,
    country_names,
    language_names,
    streaming_services,
    translation_tags,
    watch_regions,
)

log = logging.getLogger(__name__)
T = TypeVar("T")

HOUR = 3600.0
LIST_TTL = HOUR
DETAILS_TTL = HOUR
SEARCH_TTL = 10 * 60.0
FIND_TTL = 24 * HOUR  # an IMDb id's film does not change
CONFIG_TTL = 3 * 24 * HOUR
GENRES_TTL = 24 * HOUR
DETAILS_APPEND = "videos,credits,watch/providers,release_dates,external_ids,keywords"
PAGE_CODEC = TypeAdapter(MoviePage)
DETAILS_CODEC = TypeAdapter(MovieDetails)
IMAGES_CODEC = TypeAdapter(ImageConfig)
GENRES_CODEC = TypeAdapter(dict[int, str])
REFERENCE_TTL = 24 * HOUR
REGIONS_CODEC = TypeAdapter(tuple[WatchRegion, ...])
SERVICES_CODEC = TypeAdapter(tuple[StreamingService, ...])
NAMES_CODEC = TypeAdapter(dict[str, str])
TAGS_CODEC = TypeAdapter(tuple[str, ...])


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 3
    timeout: float = 5.0
    base_delay: float = 0.25
    max_delay: float = 5.0  # a Retry-After longer than this is not waited for: the user is told instead


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """A parsed TMDB answer and whether it came from TMDB just now (as opposed to the cache)."""

    data: T
    fresh: bool


class TMDBClient:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        token: str,
        base_url: str,
        region: str,
        language: str,
        cache: Cache,
        metrics: Metrics,
        retry: RetryPolicy | None = None,
    ) -> None:
        self._session = session
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self.base_url = base_url.rstrip("/")
        self.region = region
        self.language = language
        self._cache = cache
        self._metrics = metrics
        self._retry = retry or RetryPolicy()
        # Reference data is read on almost every render: memoised here, not fetched from Redis each time.
        self._reference: dict[str, tuple[float, Any]] = {}

    # ---------------------------------------------------------------- endpoints
    # Region and language travel with each call (a user's, else the configured defaults: None).
    async def movie_list(
        self, kind: str, page: int = 1, *, region: str | None = None, language: str | None = None, refresh: bool = False
    ) -> Fetched[MoviePage]:
        """One page of now_playing, popular, top_rated, upcoming or trending (this week)."""
        path = "/trending/movie/week" if kind == "trending" else f"/movie/{kind}"
        params: dict[str, Any] = {"page": page}
        if kind in ("now_playing", "upcoming", "popular", "top_rated"):
            params["region"] = region or self.region
        return await self._get(path, params, LIST_TTL, MoviePage.from_tmdb, PAGE_CODEC, language, refresh=refresh)

    async def search(
        self, query: str, *, year: int | None = None, page: int = 1, language: str | None = None
    ) -> Fetched[MoviePage]:
        params: dict[str, Any] = {"query": query, "page": page, "include_adult": "false"}
        if year:
            params["year"] = year
        return await self._get("/search/movie", params, SEARCH_TTL, MoviePage.from_tmdb, PAGE_CODEC, language)

    async def find_imdb(self, imdb_id: str) -> Fetched[MoviePage]:
        """The film TMDB has for an IMDb title id (none: an empty page)."""
        params = {"external_source": "imdb_id"}
        return await self._get(f"/find/{imdb_id}", params, FIND_TTL, found_films, PAGE_CODEC)

    async def recommendations(self, movie_id: int, *, language: str | None = None) -> Fetched[MoviePage]:
        """TMDB's own "people also liked" list for a film."""
        return await self._get(
            f"/movie/{movie_id}/recommendations", {"page": 1}, LIST_TTL, MoviePage.from_tmdb, PAGE_CODEC, language
        )

    async def discover(self, filters: dict[str, str], page: int, *, language: str | None = None) -> Fetched[MoviePage]:
        """A page of /discover/movie (`filters` are TMDB's own parameters), adult films never."""
        params: dict[str, Any] = {**filters, "page": page, "include_adult": "false", "sort_by": "popularity.desc"}
        return await self._get("/discover/movie", params, LIST_TTL, MoviePage.from_tmdb, PAGE_CODEC, language)

    async def details(
        self, movie_id: int, *, language: str | None = None, refresh: bool = False
    ) -> Fetched[MovieDetails]:
        """A film's details in `language`, with every region's offers, dates and certifications
        (one answer, cached once per film and language; the region is applied when shown)."""
        return await self._get(
            f"/movie/{movie_id}",
            {"append_to_response": DETAILS_APPEND},
            DETAILS_TTL,
            MovieDetails.from_tmdb,
            DETAILS_CODEC,
            language,
            refresh=refresh,
        )

    async def image_config(self) -> ImageConfig:
        return await self._memoised("/configuration", CONFIG_TTL, ImageConfig.from_tmdb, IMAGES_CODEC, localized=False)

    async def genres(self) -> dict[int, str]:
        return await self._memoised("/genre/movie/list", GENRES_TTL, genre_names, GENRES_CODEC)

    async def watch_regions(self) -> tuple[WatchRegion, ...]:
        """The countries TMDB has streaming data for, by English name."""
        return await self._memoised(
            "/watch/providers/regions", REFERENCE_TTL, watch_regions, REGIONS_CODEC, localized=False
        )

    async def streaming_services(self, region: str) -> tuple[StreamingService, ...]:
        """A country's streaming services, in TMDB's display order there."""
        fetched = await self._get(
            "/watch/providers/movie", {"watch_region": region}, REFERENCE_TTL, streaming_services, SERVICES_CODEC, ""
        )
        return fetched.data

    async def translations(self) -> tuple[Translation, ...]:
        """TMDB's primary translations, named in English ("French (France)")."""
        tags = await self._memoised(
            "/configuration/primary_translations", REFERENCE_TTL, translation_tags, TAGS_CODEC, localized=False
        )
        languages = await self._memoised(
            "/configuration/languages", REFERENCE_TTL, language_names, NAMES_CODEC, localized=False
        )
        countries = await self._memoised(
            "/configuration/countries", REFERENCE_TTL, country_names, NAMES_CODEC, localized=False
        )

        def name(tag: str) -> str:
            language, country = tag.split("-")
            return f"{languages.get(language, language)} ({countries.get(country, country)})"

        return tuple(Translation(tag, name(tag)) for tag in tags)

    async def _memoised(
        self, path: str, ttl: float, parse: Callable[[Any], T], codec: TypeAdapter[T], *, localized: bool = True
    ) -> T:
        now = time.monotonic()
        held = self._reference.get(path)
        if held is None or now - held[0] > ttl:
            fetched = await self._get(path, {}, ttl, parse, codec, None if localized else "")
            held = self._reference[path] = (now, fetched.data)
        value: T = held[1]
        return value

    # ---------------------------------------------------------------- transport
    async def _get(
        self,
        path: str,
        params: dict[str, Any],
        ttl: float,
        parse: Callable[[Any], T],
        codec: TypeAdapter[T],
        language: str | None = None,
        *,
        refresh: bool = False,
    ) -> Fetched[T]:
        """Through the cache: only an answer that parsed is stored. `language` None is the
        configured one; "" sends none (language-neutral data)."""
        if language != "":
            params = {**params, "language": language or self.language}
        query = urlencode(sorted(params.items()))
        data, fresh = await self._cache.get_or_load(
            f"tmdb:{path}?{query}", ttl, lambda: self._request(path, params, parse), codec, refresh=refresh
        )
        return Fetched(data, fresh)

    async def _request(self, path: str, params: dict[str, Any], parse: Callable[[Any], T]) -> T:
        policy = self._retry
        reason = "no answer"
        for attempt in range(policy.attempts):
            delay = policy.base_delay * 2**attempt * (0.5 + random.random())
            started = time.perf_counter()
            try:
                async with self._session.get(
                    self.base_url + path,
                    params=params,
                    headers=self._headers,
                    timeout=aiohttp.ClientTimeout(total=policy.timeout),
                ) as resp:
                    self._metrics.tmdb_requests.labels(str(resp.status)).inc()
                    self._metrics.tmdb_latency.observe(time.perf_counter() - started)
                    if resp.status == 200:
                        # A truncated or malformed 200 is a failed attempt like a 5xx, not an answer.
                        return self._parse(path, parse, json.loads(await resp.read()))
                    if resp.status == 401:
                        raise TMDBAuthError()
                    if resp.status == 404:
                        last = path.rsplit("/", 1)[-1]
                        raise MovieNotFound(int(last) if last.isdigit() else last)
                    if resp.status != 429 and resp.status < 500:
                        raise TMDBUnavailable(f"HTTP {resp.status}")
                    reason = f"HTTP {resp.status}"
                    retry_after = retry_after_seconds(resp.headers.get("Retry-After"))
                    if retry_after is not None:
                        if retry_after > policy.max_delay:
                            raise TMDBUnavailable("rate limited", retry_after=retry_after)
                        delay = retry_after
            except (TimeoutError, aiohttp.ClientError) as exc:
                self._metrics.tmdb_requests.labels("error").inc()
                reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else type(exc).__name__
            except (ValueError, KeyError, TypeError) as exc:  # json.JSONDecodeError and BadTMDBData are ValueErrors
                self._metrics.tmdb_bad_data.inc()
                reason = f"a malformed answer ({type(exc).__name__}: {str(exc)[:100]})"
                log.warning("TMDB %s sent %s", path, reason)
            if attempt + 1 < policy.attempts:
                log.info("TMDB %s failed (%s), retrying in %.2fs", path, reason, delay)
                await asyncio.sleep(min(delay, policy.max_delay))
        raise TMDBUnavailable(reason)

    def _parse(self, path: str, parse: Callable[[Any], T], raw: Any) -> T:
        """The typed answer; values dropped or clamped on the way (and items skipped) are counted."""
        with noting_bad_data() as bad:
            parsed = parse(raw)
        if bad:
            self._metrics.tmdb_bad_data.inc(len(bad))
            log.warning("TMDB %s: %d bad values dropped (%s)", path, len(bad), ", ".join(sorted(set(bad))))
        return parsed
