"""The filters of /ask and /foryou: a genre, a decade, a longest runtime, an original language.
The model is told them as constraints, and they are enforced after matching on TMDB whatever it
says: no film shown breaks one (an unknown runtime fails `max_runtime`)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from services.ai.matching import Pick
from services.errors import BadInput, FilteredOut

# TMDB's movie genres (GET /genre/movie/list): ids are stable, names are its English ones.
GENRES = {
    28: "Action",
    12: "Adventure",
    16: "Animation",
    35: "Comedy",
    80: "Crime",
    99: "Documentary",
    18: "Drama",
    10751: "Family",
    14: "Fantasy",
    36: "History",
    27: "Horror",
    10402: "Music",
    9648: "Mystery",
    10749: "Romance",
    878: "Science Fiction",
    10770: "TV Movie",
    53: "Thriller",
    10752: "War",
    37: "Western",
}
DECADES = tuple(range(1920, 2030, 10))
RUNTIME_RANGE = (30, 300)
_LANGUAGE = re.compile(r"[a-z]{2}")

Runtime = Callable[[int], Awaitable[int | None]]  # a film's runtime in minutes, None when unknown


@dataclass(frozen=True)
class Filters:
    genre: int | None = None  # a TMDB genre id
    decade: int | None = None  # 1990 for the 1990s
    max_runtime: int | None = None  # minutes
    language: str | None = None  # ISO 639-1, the film's original language

    def __post_init__(self) -> None:
        if self.genre is not None and self.genre not in GENRES:
            raise BadInput("Pick a genre from the list.")
        if self.decade is not None and self.decade not in DECADES:
            raise BadInput("Pick a decade from the list (the 1920s to the 2020s).")
        low, high = RUNTIME_RANGE
        if self.max_runtime is not None and not low <= self.max_runtime <= high:
            raise BadInput(f"A longest runtime goes from {low} to {high} minutes.")
        if self.language is not None and not _LANGUAGE.fullmatch(self.language):
            raise BadInput("Pick a language from the list (a two-letter code such as `fr`).")

    @classmethod
    def stored(cls, data: dict[str, Any]) -> Filters:
        """Filters as `saved()` stored them with a search (unknown keys ignored)."""
        return cls(**{name: data[name] for name in ("genre", "decade", "max_runtime", "language") if name in data})

    def saved(self) -> dict[str, Any]:
        """What is stored with a search: only the filters given."""
        return {name: value for name, value in asdict(self).items() if value is not None}

    def describe(self) -> str:
        """'Horror · 1990s · ≤ 90 min · fr', for /history."""
        parts = [
            GENRES[self.genre] if self.genre is not None else "",
            f"{self.decade}s" if self.decade is not None else "",
            f"≤ {self.max_runtime} min" if self.max_runtime is not None else "",
            self.language or "",
        ]
        return " · ".join(part for part in parts if part)

    @property
    def any(self) -> bool:
        return any(value is not None for value in asdict(self).values())

    def key(self) -> str:
        """For cache keys: the same filters, the same key."""
        return ",".join(f"{name}={value}" for name, value in asdict(self).items() if value is not None)

    def constraints(self) -> dict[str, str | int]:
        """What the model is told every film must meet."""
        found: dict[str, str | int] = {}
        if self.genre is not None:
            found["genre"] = GENRES[self.genre]
        if self.decade is not None:
            found["released_between"] = f"{self.decade} and {self.decade + 9}"
        if self.max_runtime is not None:
            found["max_runtime_minutes"] = self.max_runtime
        if self.language is not None:
            found["original_language_iso_639_1"] = self.language
        return found

    async def apply(self, picks: Sequence[Pick], runtime: Runtime) -> tuple[Pick, ...]:
        """The picks that meet every filter; FilteredOut naming the filter that left none."""
        if not self.any:
            return tuple(picks)
        kept = list(picks)
        checks: list[tuple[str, Callable[[Pick], bool]]] = []
        if self.genre is not None:
            checks.append((f"{GENRES[self.genre]} films", lambda p: self.genre in p.film.genre_ids))
        if self.decade is not None:
            decade = self.decade
            checks.append(
                (f"from the {decade}s", lambda p: p.film.year is not None and decade <= p.film.year < decade + 10)
            )
        if self.language is not None:
            checks.append((f"originally in `{self.language}`", lambda p: p.film.original_language == self.language))
        for what, check in checks:
            kept = [p for p in kept if check(p)]
            if not kept:
                raise FilteredOut(what)
        if self.max_runtime is not None:
            limit = self.max_runtime
            runtimes = await asyncio.gather(*(runtime(p.film.id) for p in kept))
            kept = [p for p, minutes in zip(kept, runtimes, strict=True) if minutes is not None and minutes <= limit]
            if not kept:
                raise FilteredOut(f"{limit} minutes or shorter")
        return tuple(kept)


NO_FILTERS = Filters()
