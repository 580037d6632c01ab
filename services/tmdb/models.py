"""Typed views of TMDB's JSON. TMDB is crowd-edited and untrusted: every field is checked for
its type, text is cleaned of control characters, an answer missing what makes it usable raises
BadTMDBData (the client retries it, and never caches it), and one bad item in a list is
skipped and logged while the rest is kept."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from services.text import clean_text, one_line

log = logging.getLogger(__name__)
T = TypeVar("T")

LIST_KINDS = ("now_playing", "popular", "top_rated", "upcoming", "trending")
TITLE_MAX = 300  # longer titles are cut: they are stored and indexed (btree rows hold ~2.7 kB)
NAME_MAX = 200
OVERVIEW_MAX = 5000
MAX_KEYWORDS = 20
# Beyond any real value (the most-voted film has under 50,000 votes, the longest runs 857 hours,
# popularity scores stay in the thousands): such a number is bad data, dropped and counted. It
# must also fit the columns it is stored in (INTEGER), or one film would sink its whole page.
MAX_VOTE_COUNT = 10_000_000
MAX_RUNTIME_MINUTES = 60_000
MAX_POPULARITY = 1_000_000.0
MAX_ID = 2**31 - 1


_WATCH_LINK = re.compile(r"https://www\.themoviedb\.org/movie/\d+(-[a-z0-9-]+)?/watch\?locale=[A-Z]{2}")


class BadTMDBData(ValueError):
    """A TMDB answer (or item) that does not have the shape we need."""


_bad_values: ContextVar[list[str] | None] = ContextVar("tmdb_bad_values", default=None)


@contextmanager
def noting_bad_data() -> Iterator[list[str]]:
    """While parsing one answer: what was dropped or clamped in it (a value out of range, an
    item skipped), so the client can count it in `marquee_tmdb_bad_data_total`."""
    found: list[str] = []
    token = _bad_values.set(found)
    try:
        yield found
    finally:
        _bad_values.reset(token)


def _note(what: str) -> None:
    found = _bad_values.get()
    if found is not None:
        found.append(what)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _id(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**31:
        raise BadTMDBData(f"bad id {value!r}")
    return value


def _number(value: Any) -> float:
    """A finite number, else 0 (JSON can carry NaN and Infinity: Python's parser reads them)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0.0
    return float(value)


def _count(value: Any) -> int:
    return int(_number(value)) if _number(value) >= 0 else 0


def _bounded(value: Any, limit: float, what: str) -> float:
    """A number in 0..limit; one past it (or negative, or not a number) is 0, and noted."""
    number = _number(value)
    if value is not None and (number != value or not 0 <= number <= limit):
        _note(what)
        return 0.0
    return number


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _path(value: Any) -> str | None:
    """Image paths are '/abc.jpg'; anything else would let TMDB data pick the URL we show."""
    if isinstance(value, str) and value.startswith("/") and len(value) < 200 and value.isprintable():
        return value if all(c.isalnum() or c in "/._-" for c in value) else None
    return None


def each(items: Any, parse: Callable[[Any], T], what: str) -> Iterator[T]:
    """Parse every item of a TMDB list, skipping (and logging) the ones that do not parse."""
    for item in _list(items):
        try:
            yield parse(_must_dict(item))
        except (BadTMDBData, KeyError, TypeError, ValueError) as exc:
            _note(what)
            log.warning("skipping a bad %s from TMDB: %s", what, exc)


def _must_dict(item: Any) -> dict[str, Any]:
    if not isinstance(item, dict):
        raise BadTMDBData(f"expected an object, got {type(item).__name__}")
    return item


def unique(films: Iterable[T], key: Callable[[T], int]) -> tuple[T, ...]:
    """First occurrence of each id, in order (TMDB lists the same film twice at times)."""
    seen: set[int] = set()
    kept = []
    for film in films:
        if key(film) not in seen:
            seen.add(key(film))
            kept.append(film)
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class MovieSummary:
    id: int
    title: str
    release_date: date | None = None
    overview: str = ""
    poster_path: str | None = None
    genre_ids: tuple[int, ...] = ()
    popularity: float = 0.0
    vote_average: float = 0.0
    vote_count: int = 0
    original_title: str | None = None
    original_language: str | None = None
    backdrop_path: str | None = None
    adult: bool = False

    @property
    def year(self) -> int | None:
        return self.release_date.year if self.release_date else None

    @property
    def label(self) -> str:
        """'Title (Year)', the way films are named in choices and lists."""
        return f"{self.title} ({self.year})" if self.year else self.title

    def released(self, today: date | None = None) -> bool:
        """Out already (a film without a date is taken as out: TMDB leaves old films undated)."""
        return self.release_date is None or self.release_date <= (today or date.today())

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> MovieSummary:
        movie_id = _id(data.get("id"))
        genres = data.get("genre_ids")
        raw_genres = genres if isinstance(genres, list) else [_dict(g).get("id") for g in _list(data.get("genres"))]
        genre_ids = [g for g in raw_genres if isinstance(g, int) and not isinstance(g, bool) and 0 < g <= MAX_ID]
        if len(genre_ids) < len(raw_genres):
            _note("genre id")
        original = one_line(data.get("original_title"), TITLE_MAX) or None
        return cls(
            id=movie_id,
            title=one_line(data.get("title"), TITLE_MAX) or original or f"TMDB film {movie_id}",
            release_date=_date(data.get("release_date")),
            overview=clean_text(data.get("overview"), OVERVIEW_MAX).strip(),
            poster_path=_path(data.get("poster_path")),
            genre_ids=tuple(genre_ids[:10]),
            popularity=_bounded(data.get("popularity"), MAX_POPULARITY, "popularity"),
            vote_average=_bounded(data.get("vote_average"), 10.0, "vote average"),
            vote_count=int(_bounded(data.get("vote_count"), MAX_VOTE_COUNT, "vote count")),
            original_title=original,
            original_language=one_line(data.get("original_language"), 10) or None,
            backdrop_path=_path(data.get("backdrop_path")),
            adult=data.get("adult") is True,
        )


@dataclass(frozen=True, slots=True)
class MoviePage:
    page: int
    total_pages: int
    total_results: int
    results: tuple[MovieSummary, ...]

    def without(self, ids: Iterable[int]) -> MoviePage:
        """This page less the films already shown (on the page before, say)."""
        drop = set(ids)
        return MoviePage(
            self.page, self.total_pages, self.total_results, tuple(f for f in self.results if f.id not in drop)
        )

    @classmethod
    def from_tmdb(cls, data: Any) -> MoviePage:
        data = _must_dict(data)
        if not isinstance(data.get("results"), list):
            raise BadTMDBData("a list answer without results")
        films = each([r for r in data["results"] if not _dict(r).get("adult")], MovieSummary.from_tmdb, "film")
        results = unique(films, lambda f: f.id)
        return cls(
            page=max(1, _count(data.get("page")) or 1),
            # TMDB serves at most 500 pages of any list, whatever total_pages says.
            total_pages=min(max(1, _count(data.get("total_pages"))), 500),
            total_results=_count(data.get("total_results")) or len(results),
            results=results,
        )


def found_films(data: Any) -> MoviePage:
    """TMDB's /find answer as a page of the films it found (its `movie_results`; series, people and
    episodes are other lists, never read)."""
    data = _must_dict(data)
    if not isinstance(data.get("movie_results"), list):
        raise BadTMDBData("a find answer without movie_results")
    return MoviePage.from_tmdb({"page": 1, "total_pages": 1, "results": data["movie_results"]})


@dataclass(frozen=True, slots=True)
class Provider:
    # No defaults: a cached answer from before providers kept their id no longer parses, and is
    # fetched again (a user's services are matched by id).
    id: int
    name: str
    logo_path: str | None

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> Provider:
        name = one_line(data.get("provider_name"), NAME_MAX)
        if not name:
            raise BadTMDBData("a provider without a name")
        return cls(_id(data.get("provider_id")), name, _path(data.get("logo_path")))


@dataclass(frozen=True, slots=True)
class WatchProviders:
    """Where to watch in one region (data by JustWatch, through TMDB)."""

    link: str | None = None
    flatrate: tuple[Provider, ...] = ()
    rent: tuple[Provider, ...] = ()
    buy: tuple[Provider, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.flatrate or self.rent or self.buy)

    def streams_on(self, services: Iterable[int]) -> tuple[Provider, ...]:
        """The flatrate offers among these provider ids."""
        wanted = set(services)
        return tuple(p for p in self.flatrate if p.id in wanted)

    @classmethod
    def from_tmdb(cls, regional: dict[str, Any]) -> WatchProviders:
        link = regional.get("link")
        return cls(
            # Shown as a markdown link "All options on TMDB": only the exact shape of TMDB's own
            # watch pages, so no ")" or space can close it and plant a second link.
            link=link if isinstance(link, str) and _WATCH_LINK.fullmatch(link) else None,
            flatrate=tuple(each(regional.get("flatrate"), Provider.from_tmdb, "provider")),
            rent=tuple(each(regional.get("rent"), Provider.from_tmdb, "provider")),
            buy=tuple(each(regional.get("buy"), Provider.from_tmdb, "provider")),
        )


@dataclass(frozen=True, slots=True)
class Video:
    key: str
    name: str
    site: str
    type: str
    official: bool = False

    @property
    def url(self) -> str | None:
        if self.site == "YouTube":
            return f"https://www.youtube.com/watch?v={self.key}"
        if self.site == "Vimeo":
            return f"https://vimeo.com/{self.key}"
        return None

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> Video:
        key = data.get("key")
        if not isinstance(key, str) or not key or not all(c.isalnum() or c in "-_" for c in key) or len(key) > 64:
            raise BadTMDBData(f"a video with a bad key {key!r}")
        return cls(
            key,
            one_line(data.get("name"), NAME_MAX),
            one_line(data.get("site"), 40),
            one_line(data.get("type"), 40),
            data.get("official") is True,
        )


@dataclass(frozen=True, slots=True)
class CastMember:
    name: str
    character: str = ""

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> CastMember:
        name = one_line(data.get("name"), NAME_MAX)
        if not name:
            raise BadTMDBData("a credit without a name")
        return cls(name, one_line(data.get("character"), NAME_MAX))


@dataclass(frozen=True, slots=True)
class Regional:
    """What a film is in one country: where to watch it, its certification and release date."""

    providers: WatchProviders = field(default_factory=WatchProviders)
    certification: str | None = None
    release_date: date | None = None  # the earliest theatrical release there, else the earliest


NOWHERE = Regional()


@dataclass(frozen=True, slots=True)
class MovieDetails:
    summary: MovieSummary
    runtime: int | None = None
    genres: tuple[str, ...] = ()
    tagline: str = ""
    directors: tuple[str, ...] = ()
    cast: tuple[CastMember, ...] = ()
    videos: tuple[Video, ...] = ()
    # Every country TMDB has offers or release dates for: the details are cached once per film
    # and language, and each user's region is applied when they are shown. No default: a cached
    # answer from before regions were kept no longer parses, and is fetched again.
    regions: dict[str, Regional] = field(kw_only=True)
    imdb_id: str | None = None
    keywords: tuple[str, ...] = ()

    def in_region(self, region: str) -> Regional:
        return self.regions.get(region, NOWHERE)

    def release_date_in(self, region: str) -> date | None:
        """When it comes out in `region` (its earliest cinema release there), else TMDB's date."""
        return self.in_region(region).release_date or self.summary.release_date

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def title(self) -> str:
        return self.summary.title

    @property
    def imdb_url(self) -> str | None:
        return f"https://www.imdb.com/title/{self.imdb_id}/" if self.imdb_id else None

    @property
    def trailer(self) -> Video | None:
        """The best trailer: official YouTube/Vimeo trailers first, then teasers."""
        playable = [v for v in self.videos if v.url]
        for wanted in ("Trailer", "Teaser"):
            ranked = sorted((v for v in playable if v.type == wanted), key=lambda v: not v.official)
            if ranked:
                return ranked[0]
        return None

    @classmethod
    def from_tmdb(cls, data: Any) -> MovieDetails:
        data = _must_dict(data)
        credits = _dict(data.get("credits"))
        crew = [c for c in _list(credits.get("crew")) if isinstance(c, dict) and c.get("job") == "Director"]
        cast = sorted(
            (c for c in _list(credits.get("cast")) if isinstance(c, dict)),
            key=lambda c: _number(c.get("order", 999)),
        )
        runtime = int(_bounded(data.get("runtime"), MAX_RUNTIME_MINUTES, "runtime"))
        return cls(
            summary=MovieSummary.from_tmdb(data),
            runtime=runtime or None,
            genres=tuple(g.name for g in each(data.get("genres"), _Genre.from_tmdb, "genre")),
            tagline=one_line(data.get("tagline"), 300),
            directors=tuple(c.name for c in each(crew, CastMember.from_tmdb, "director")),
            cast=tuple(each(cast[:15], CastMember.from_tmdb, "cast member")),
            videos=tuple(each(_dict(data.get("videos")).get("results"), Video.from_tmdb, "video")),
            regions=_regions(data),
            keywords=_keywords(data.get("keywords")),
            imdb_id=_imdb_id(_dict(data.get("external_ids")).get("imdb_id") or data.get("imdb_id")),
        )


@dataclass(frozen=True, slots=True)
class _Genre:
    id: int
    name: str

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> _Genre:
        name = one_line(data.get("name"), 60)
        if not name:
            raise BadTMDBData("a genre without a name")
        return cls(_id(data.get("id")), name)


def genre_names(data: Any) -> dict[int, str]:
    return {g.id: g.name for g in each(_must_dict(data).get("genres"), _Genre.from_tmdb, "genre")}


def _keywords(value: Any) -> tuple[str, ...]:
    names = (one_line(_dict(k).get("name"), NAME_MAX) for k in _list(_dict(value).get("keywords")))
    return tuple(dict.fromkeys(n for n in names if n))[:MAX_KEYWORDS]


def _imdb_id(value: Any) -> str | None:
    if isinstance(value, str) and value.startswith("tt") and value[2:].isascii() and value[2:].isdigit():
        return value
    return None


_REGION = re.compile(r"[A-Z]{2}")
THEATRICAL = (2, 3)  # TMDB's release types: limited and wide theatrical


def _regions(data: dict[str, Any]) -> dict[str, Regional]:
    """Per country (ISO 3166-1): the offers of `watch/providers` and the certification and
    release date of `release_dates`."""
    offers = {
        code: WatchProviders.from_tmdb(_dict(regional))
        for code, regional in _dict(_dict(data.get("watch/providers")).get("results")).items()
        if isinstance(code, str) and _REGION.fullmatch(code)
    }
    dated: dict[str, tuple[str | None, date | None]] = {}
    for country in _list(_dict(data.get("release_dates")).get("results")):
        code = _dict(country).get("iso_3166_1")
        if isinstance(code, str) and _REGION.fullmatch(code):
            dated[code] = _release(_list(_dict(country).get("release_dates")))
    return {
        code: Regional(offers.get(code, WatchProviders()), *dated.get(code, (None, None)))
        for code in sorted(offers.keys() | dated.keys())
    }


def _release(releases: list[Any]) -> tuple[str | None, date | None]:
    """A country's certification (the first given) and release date (earliest theatrical, else
    earliest of any kind)."""
    certification = next((c for r in releases if (c := one_line(_dict(r).get("certification"), 20))), None)
    dates = [
        (_dict(r).get("type") in THEATRICAL, _date(str(_dict(r).get("release_date") or "")[:10])) for r in releases
    ]
    theatrical = [d for is_theatrical, d in dates if is_theatrical and d]
    any_kind = [d for _, d in dates if d]
    return certification, min(theatrical or any_kind, default=None)


@dataclass(frozen=True, slots=True)
class ImageConfig:
    base_url: str
    poster_size: str
    backdrop_size: str = "w780"

    def poster(self, path: str | None) -> str | None:
        return f"{self.base_url}{self.poster_size}{path}" if path else None

    def backdrop(self, path: str | None) -> str | None:
        return f"{self.base_url}{self.backdrop_size}{path}" if path else None

    @classmethod
    def from_tmdb(cls, data: Any) -> ImageConfig:
        images = _dict(_must_dict(data).get("images"))
        base = images.get("secure_base_url")
        if not isinstance(base, str) or not base.startswith("https://"):
            base = "https://image.tmdb.org/t/p/"
        sizes = [s for s in _list(images.get("poster_sizes")) if isinstance(s, str) and s.isalnum()] or ["original"]
        backdrops = [s for s in _list(images.get("backdrop_sizes")) if isinstance(s, str) and s.isalnum()]
        return cls(
            base_url=base if base.endswith("/") else base + "/",
            poster_size="w500" if "w500" in sizes else sizes[-1],
            backdrop_size="w780" if "w780" in backdrops or not backdrops else backdrops[-1],
        )
