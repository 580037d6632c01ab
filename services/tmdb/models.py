"""Typed views of TMDB's JSON; parsing tolerates missing and null fields, as TMDB sends both."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

LIST_KINDS = ("now_playing", "popular", "top_rated", "upcoming", "trending")


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


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

    @property
    def year(self) -> int | None:
        return self.release_date.year if self.release_date else None

    @property
    def label(self) -> str:
        """'Title (Year)', the way films are named in choices and lists."""
        return f"{self.title} ({self.year})" if self.year else self.title

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> MovieSummary:
        return cls(
            id=int(data["id"]),
            title=data.get("title") or data.get("original_title") or f"#{data['id']}",
            release_date=_date(data.get("release_date")),
            overview=data.get("overview") or "",
            poster_path=data.get("poster_path"),
            genre_ids=tuple(data.get("genre_ids") or (g["id"] for g in data.get("genres") or ())),
            popularity=float(data.get("popularity") or 0),
            vote_average=float(data.get("vote_average") or 0),
            vote_count=int(data.get("vote_count") or 0),
            original_title=data.get("original_title"),
        )


@dataclass(frozen=True, slots=True)
class MoviePage:
    page: int
    total_pages: int
    total_results: int
    results: tuple[MovieSummary, ...]

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> MoviePage:
        results = tuple(MovieSummary.from_tmdb(r) for r in data.get("results") or () if not r.get("adult"))
        return cls(
            page=int(data.get("page") or 1),
            # TMDB serves at most 500 pages of any list, whatever total_pages says.
            total_pages=min(int(data.get("total_pages") or 1), 500),
            total_results=int(data.get("total_results") or len(results)),
            results=results,
        )


@dataclass(frozen=True, slots=True)
class Provider:
    name: str
    logo_path: str | None = None


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


@dataclass(frozen=True, slots=True)
class CastMember:
    name: str
    character: str = ""


@dataclass(frozen=True, slots=True)
class MovieDetails:
    summary: MovieSummary
    runtime: int | None = None
    genres: tuple[str, ...] = ()
    tagline: str = ""
    directors: tuple[str, ...] = ()
    cast: tuple[CastMember, ...] = ()
    videos: tuple[Video, ...] = ()
    certification: str | None = None
    providers: WatchProviders = field(default_factory=WatchProviders)
    imdb_id: str | None = None

    @property
    def id(self) -> int:
        return self.summary.id

    @property
    def title(self) -> str:
        return self.summary.title

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
    def from_tmdb(cls, data: dict[str, Any], region: str) -> MovieDetails:
        credits = data.get("credits") or {}
        crew = credits.get("crew") or ()
        cast = sorted(credits.get("cast") or (), key=lambda c: c.get("order", 999))
        regional = ((data.get("watch/providers") or {}).get("results") or {}).get(region) or {}
        return cls(
            summary=MovieSummary.from_tmdb(data),
            runtime=int(data["runtime"]) if data.get("runtime") else None,
            genres=tuple(g["name"] for g in data.get("genres") or () if g.get("name")),
            tagline=data.get("tagline") or "",
            directors=tuple(c["name"] for c in crew if c.get("job") == "Director" and c.get("name")),
            cast=tuple(CastMember(c["name"], c.get("character") or "") for c in cast if c.get("name")),
            videos=tuple(
                Video(
                    v["key"],
                    v.get("name") or "",
                    v.get("site") or "",
                    v.get("type") or "",
                    bool(v.get("official")),
                )
                for v in (data.get("videos") or {}).get("results") or ()
                if v.get("key")
            ),
            certification=_certification(data, region),
            providers=WatchProviders(
                link=regional.get("link"),
                **{
                    kind: tuple(Provider(p["provider_name"], p.get("logo_path")) for p in regional.get(kind) or ())
                    for kind in ("flatrate", "rent", "buy")
                },
            ),
            imdb_id=data.get("imdb_id"),
        )


def _certification(data: dict[str, Any], region: str) -> str | None:
    for country in (data.get("release_dates") or {}).get("results") or ():
        if country.get("iso_3166_1") == region:
            for release in country.get("release_dates") or ():
                if release.get("certification"):
                    return str(release["certification"])
    return None


@dataclass(frozen=True, slots=True)
class ImageConfig:
    base_url: str
    poster_size: str

    def poster(self, path: str | None) -> str | None:
        return f"{self.base_url}{self.poster_size}{path}" if path else None

    @classmethod
    def from_tmdb(cls, data: dict[str, Any]) -> ImageConfig:
        images = data.get("images") or {}
        sizes = images.get("poster_sizes") or ["original"]
        return cls(
            base_url=images.get("secure_base_url") or images.get("base_url") or "https://image.tmdb.org/t/p/",
            poster_size="w500" if "w500" in sizes else sizes[-1],
        )
