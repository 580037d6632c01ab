"""A fake of TMDB's v3 wire API on 127.0.0.1 with a generated catalogue and fault knobs."""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.server import Fault, LoopbackServer, take

GENRES = {28: "Action", 35: "Comedy", 18: "Drama", 878: "Science Fiction", 53: "Thriller", 27: "Horror"}
WORDS = ["Silent", "Crimson", "Last", "Midnight", "Golden", "Broken", "Hidden", "Electric", "Paper", "Iron"]
NOUNS = ["Harbor", "Signal", "Garden", "Heist", "Orbit", "Echo", "Summer", "Mirror", "Frontier", "Waltz"]
PAGE_SIZE = 20

# Providers by TMDB id, as JustWatch names them; a region lists its services in display order.
PROVIDERS = {
    1899: "StreamCo",
    8: "Netflix",
    15: "Hulu",
    41: "ITVX",
    29: "Sky Go",
    381: "Canal+",
    2: "RentAll",
    3: "BuyIt",
    130: "Sky Store",
}
# The US lists 30 more, as big markets do: the settings' services menu pages past 25.
EXTRA_US = {5000 + n: f"Channel {n:02d}" for n in range(30)}
REGION_SERVICES = {
    "US": [1899, 8, 15, *EXTRA_US],
    "GB": [41, 8, 29],
    "FR": [381, 8],
}
REGIONS = {"US": "United States of America", "GB": "United Kingdom", "FR": "France"}
LANGUAGES = {"en": "English", "fr": "French", "de": "German"}
COUNTRIES = {**REGIONS, "DE": "Germany", "CA": "Canada"}
TRANSLATIONS = ["en-US", "en-GB", "fr-FR", "fr-CA", "de-DE"]


def provider(provider_id: int, priority: int = 1) -> dict[str, Any]:
    name = PROVIDERS.get(provider_id) or EXTRA_US[provider_id]
    return {
        "provider_id": provider_id,
        "provider_name": name,
        "logo_path": f"/p{provider_id}.png",
        "display_priority": priority,
    }


def make_film(index: int) -> dict[str, Any]:
    movie_id = 1000 + index
    genre_ids = [list(GENRES)[index % 6], list(GENRES)[(index + 2) % 6]]
    return {
        "id": movie_id,
        "title": f"{WORDS[index % 10]} {NOUNS[(index // 10) % 10]}",
        "original_title": f"{WORDS[index % 10]} {NOUNS[(index // 10) % 10]}",
        "release_date": f"{1990 + index % 35}-0{1 + index % 9}-1{index % 10}",
        "overview": f"Film number {index}: a story about {NOUNS[index % 10].lower()}s and what they hide.",
        "poster_path": f"/poster{movie_id}.jpg",
        "backdrop_path": None,
        "genre_ids": genre_ids,
        "popularity": 1000.0 - index * 7 % 997,
        "vote_average": round(5 + (index * 37 % 50) / 10, 1),
        "vote_count": 100 + index * 13,
        "adult": False,
        "video": False,
        "original_language": "en",
    }


def release_dates(released: str) -> list[dict[str, Any]]:
    """TMDB's `release_dates` results: the US in cinemas on the film's date (PG-13); in GB on
    digital 10 days later, then in cinemas 30 days later (15), as countries often differ."""
    day = date.fromisoformat(released)

    def entry(when: date, kind: int, certification: str) -> dict[str, Any]:
        stamp = f"{when.isoformat()}T00:00:00.000Z"
        return {
            "certification": certification,
            "descriptors": [],
            "iso_639_1": "",
            "note": "",
            "release_date": stamp,
            "type": kind,
        }

    return [
        {"iso_3166_1": "US", "release_dates": [entry(day, 3, "PG-13")]},
        {
            "iso_3166_1": "GB",
            "release_dates": [entry(day + timedelta(days=30), 3, "15"), entry(day + timedelta(days=10), 4, "")],
        },
    ]


def make_details(film: dict[str, Any], index: int) -> dict[str, Any]:
    data = {k: v for k, v in film.items() if k != "genre_ids"}
    data.update(
        runtime=85 + index % 70,
        tagline=f"Tagline {index}" if index % 2 else "",
        genres=[{"id": g, "name": GENRES[g]} for g in film["genre_ids"]],
        imdb_id=f"tt{9000000 + index}",
        keywords={
            "keywords": [{"id": 100 + g, "name": GENRES[g].lower()} for g in film["genre_ids"]]
            + [{"id": 900 + index % 10, "name": NOUNS[index % 10].lower()}]
        },
        status="Released",
        credits={
            "cast": [{"name": f"Actor {index}-{n}", "character": f"Role {n}", "order": n} for n in range(8)],
            "crew": [{"name": f"Director {index}", "job": "Director"}, {"name": f"Writer {index}", "job": "Writer"}],
        },
        videos={
            "results": []
            if index % 7 == 0
            else [
                {"key": f"teaser{index}", "site": "YouTube", "type": "Teaser", "name": "Teaser", "official": True},
                {
                    "key": f"trailer{index}",
                    "site": "YouTube",
                    "type": "Trailer",
                    "name": "Official Trailer",
                    "official": True,
                },
            ]
        },
        release_dates={"results": release_dates(film["release_date"])},
        **{"watch/providers": {"results": default_offers(film["id"], index)}},
    )
    return data


def default_offers(movie_id: int, index: int) -> dict[str, dict[str, Any]]:
    """Where a generated film is offered: StreamCo streams a third of them in the US, ITVX half
    of them in the UK; every one rents in both."""
    return {
        "US": {
            "link": f"https://www.themoviedb.org/movie/{movie_id}/watch?locale=US",
            "flatrate": [provider(1899)] if index % 3 == 0 else [],
            "rent": [provider(2)],
            "buy": [provider(3)],
        },
        "GB": {
            "link": f"https://www.themoviedb.org/movie/{movie_id}/watch?locale=GB",
            "flatrate": [provider(41)] if index % 2 == 0 else [],
            "rent": [provider(130)],
        },
    }


def folded(text: str) -> str:
    """Lower case, no accents, punctuation as spaces: how TMDB's search compares words."""
    plain = "".join(c for c in unicodedata.normalize("NFKD", text.casefold()) if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in plain)


def _has_words(title: list[str], words: list[str]) -> bool:
    return all(any(t.startswith(w) for t in title) for w in words)


def translated(film: dict[str, Any], language: str) -> dict[str, Any]:
    """The film as TMDB answers in `language`: French titles and overviews for fr-*."""
    if not language.startswith("fr"):
        return film
    return {**film, "title": f"Le {film['title']}", "overview": f"(fr) {film['overview']}"}


@dataclass
class Call:
    path: str
    query: dict[str, str]
    at: float
    status: int = 200


@dataclass
class FakeTMDB(LoopbackServer):
    """Knobs: `token` (anything else gets 401), `fail()` (next N requests answer a status, with an
    optional Retry-After), `broken` (a page that always fails), `latency` (seconds before every
    answer). `calls` records requests."""

    token: str = "tmdb-test-token"
    film_count: int = 120
    latency: float = 0.0
    calls: list[Call] = field(default_factory=list)
    films: list[dict[str, Any]] = field(default_factory=list)
    broken: dict[tuple[str, int], int] = field(default_factory=dict)  # (path, page) -> the status it always gets
    # Availability knobs: film id -> region -> flatrate provider ids (replacing the default
    # offers there), and film id -> release date (every region).
    streaming: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    released: dict[int, str] = field(default_factory=dict)
    failing_films: set[int] = field(default_factory=set)  # details of these answer 500
    # TMDB's rate limit (~40 requests a second per IP): beyond `rate_limit` in the last second, 429.
    rate_limit: int | None = None
    _faults: list[Fault] = field(default_factory=list)
    _recent: deque[float] = field(default_factory=deque)
    _folded: dict[int, tuple[str, list[str]]] = field(default_factory=dict)
    _index: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _indexed: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.films = [make_film(i) for i in range(self.film_count)]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/3"

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self._faults.append(Fault(status, times, retry_after))

    def recover(self) -> None:
        """Every fault queued with `fail()` or `send_raw()` is dropped: TMDB answers again."""
        self._faults.clear()

    def send_raw(self, body: bytes, times: int = 1) -> None:
        """The next `times` requests get a 200 with this body, whatever they asked."""
        self._faults.append(Fault(200, times, body=body))

    def calls_to(self, prefix: str) -> list[Call]:
        return [c for c in self.calls if c.path.startswith(prefix)]

    def add_film(self, title: str, year: int, *, original_title: str | None = None, votes: int = 500) -> int:
        """Another film in the catalogue (after the generated ones); its TMDB id."""
        film = make_film(len(self.films))
        film.update(
            title=title,
            original_title=original_title or title,
            release_date=f"{year}-06-15",
            vote_count=votes,
        )
        self.films.append(film)
        return int(film["id"])

    def imdb_id(self, movie_id: int) -> str:
        return f"tt{9000000 + movie_id - 1000}"

    def film(self, movie_id: int) -> dict[str, Any]:
        return self.films[movie_id - 1000]

    def lists(self) -> dict[str, list[dict[str, Any]]]:
        return {
            "now_playing": self.films[:45],
            "popular": sorted(self.films, key=lambda f: -f["popularity"]),
            "top_rated": sorted(self.films, key=lambda f: -f["vote_average"]),
            "upcoming": self.films[-30:],
            "trending": self.films[10:70],
        }

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/3/{path:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.Response:
        call = Call("/" + request.match_info["path"], dict(request.query), time.monotonic())
        self.calls.append(call)
        if self.rate_limit is not None and self._over_limit(call.at):
            call.status = 429
            return web.json_response(
                {"status_code": 25, "status_message": "Your request count is over the allowed limit."},
                status=429,
                headers={"Retry-After": "1"},
            )
        if self.latency:
            await asyncio.sleep(self.latency)
        response = self._answer(call.path, request)
        call.status = response.status
        return response

    def _words(self, film: dict[str, Any]) -> list[str]:
        cached = self._folded.get(film["id"])
        if cached is None or cached[0] != film["title"]:
            cached = self._folded[film["id"]] = (film["title"], folded(film["title"]).split())
        return cached[1]

    def _candidates(self, words: list[str]) -> list[dict[str, Any]]:
        """Films that may match the query (kept fast for catalogues of thousands): those with a
        title word starting with its first word."""
        titles = [f["title"] for f in self.films]
        if titles != self._indexed:
            self._indexed, self._index = titles, {}
            for film in self.films:
                for word in set(self._words(film)):
                    self._index.setdefault(word, []).append(film)
        if not words:
            return self.films
        found = {int(f["id"]): f for word, films in self._index.items() if word.startswith(words[0]) for f in films}
        return [found[k] for k in sorted(found)]

    def _over_limit(self, now: float) -> bool:
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= (self.rate_limit or 0):
            return True
        self._recent.append(now)
        return False

    def _answer(self, path: str, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"status_code": 7, "status_message": "Invalid API key", "success": False}, status=401
            )
        if status := self.broken.get((path, int(request.query.get("page", "1")))):
            return web.json_response({"status_code": 11, "status_message": "Internal error"}, status=status)
        if fault := take(self._faults):
            if fault.body is not None:
                return web.Response(body=fault.body, content_type="application/json")
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            return web.json_response(
                {"status_code": 25, "status_message": "fault"}, status=fault.status, headers=headers
            )
        query = request.query
        page = int(query.get("page", "1"))
        if path == "/configuration":
            return web.json_response(
                {
                    "images": {
                        "secure_base_url": "https://image.tmdb.org/t/p/",
                        "poster_sizes": ["w92", "w500", "original"],
                    }
                }
            )
        if path == "/watch/providers/regions":
            return web.json_response(
                {"results": [{"iso_3166_1": c, "english_name": n, "native_name": n} for c, n in REGIONS.items()]}
            )
        if path == "/watch/providers/movie":
            ids = REGION_SERVICES.get(query.get("watch_region", ""), [])
            return web.json_response({"results": [provider(i, n + 1) for n, i in enumerate(ids)]})
        if path == "/configuration/primary_translations":
            return web.json_response(TRANSLATIONS)
        if path == "/configuration/languages":
            return web.json_response([{"iso_639_1": c, "english_name": n, "name": n} for c, n in LANGUAGES.items()])
        if path == "/configuration/countries":
            return web.json_response(
                [{"iso_3166_1": c, "english_name": n, "native_name": n} for c, n in COUNTRIES.items()]
            )
        if path == "/genre/movie/list":
            return web.json_response({"genres": [{"id": k, "name": v} for k, v in GENRES.items()]})
        if path == "/search/movie":
            # As TMDB's search: every word of the query starts a word of the title, whatever the
            # case and accents.
            words = folded(query.get("query", "")).split()
            found = [f for f in self._candidates(words) if _has_words(self._words(f), words)]
            if "year" in query:
                found = [f for f in found if f["release_date"].startswith(query["year"])]
            return self._page([translated(f, query.get("language", "")) for f in found], page)
        if path.startswith("/find/"):
            if query.get("external_source") != "imdb_id":
                return web.json_response({"status_code": 34, "status_message": "not found"}, status=404)
            imdb = path.removeprefix("/find/")
            found = [f for f in self.films if self.imdb_id(f["id"]) == imdb]
            films = [translated(f, query.get("language", "")) for f in found]
            return web.json_response(
                {"movie_results": films, "person_results": [], "tv_results": [], "tv_episode_results": []}
            )
        if path == "/discover/movie":
            return self._page(self._discover(query), page)
        if path.startswith("/movie/") and path.endswith("/recommendations"):
            movie_id = path.split("/")[2]
            if not movie_id.isdigit() or not 0 <= int(movie_id) - 1000 < len(self.films):
                return web.json_response({"status_code": 34, "status_message": "not found"}, status=404)
            return self._page(self.recommended(int(movie_id)), page)
        kind = path.removeprefix("/movie/").removeprefix("/trending/movie/")
        if path == "/trending/movie/week":
            return self._page(self.lists()["trending"], page)
        if kind in self.lists():
            return self._page([translated(f, query.get("language", "")) for f in self.lists()[kind]], page)
        if path.startswith("/movie/") and kind.isdigit() and 0 <= int(kind) - 1000 < len(self.films):
            return self._details(int(kind), query.get("language", ""))
        return web.json_response({"status_code": 34, "status_message": "The resource could not be found."}, status=404)

    def _details(self, movie_id: int, language: str) -> web.Response:
        if movie_id in self.failing_films:
            return web.json_response({"status_code": 11, "status_message": "Internal error"}, status=500)
        film = translated(self.film(movie_id), language)
        if movie_id in self.released:
            film = {**film, "release_date": self.released[movie_id]}
        details = make_details(film, movie_id - 1000)
        offers = details["watch/providers"]["results"]
        for region, ids in self.streaming.get(movie_id, {}).items():
            offers.setdefault(region, {})["flatrate"] = [provider(i) for i in ids]
        return web.json_response(details)

    def recommended(self, movie_id: int) -> list[dict[str, Any]]:
        """TMDB's "recommendations" for a film: others of its first genre."""
        genre = self.film(movie_id)["genre_ids"][0]
        return [f for f in self.films if genre in f["genre_ids"] and f["id"] != movie_id][:20]

    def _discover(self, query: Any) -> list[dict[str, Any]]:
        found = list(self.films)
        if genre := query.get("with_genres"):
            found = [f for f in found if int(genre) in f["genre_ids"]]
        if since := query.get("primary_release_date.gte"):
            found = [f for f in found if f["release_date"] >= since]
        if until := query.get("primary_release_date.lte"):
            found = [f for f in found if f["release_date"] <= until]
        return sorted(found, key=lambda f: -f["popularity"])

    def _page(self, films: list[dict[str, Any]], page: int) -> web.Response:
        total_pages = max(1, -(-len(films) // PAGE_SIZE))
        chunk = films[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        return web.json_response(
            {"page": page, "results": chunk, "total_pages": total_pages, "total_results": len(films)}
        )
