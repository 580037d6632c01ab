"""The model's suggestions matched to real TMDB films, all at once (bounded), through the cached
search: a suggestion counts only when TMDB has a film of that title; the year tells apart films
that share one. What cannot be matched is dropped: the model may invent films."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from services.ai.schemas import Suggestion
from services.catalog import MovieCatalog
from services.errors import BadInput, MarqueeError
from services.text import fold
from services.tmdb.models import MovieSummary
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)
S = TypeVar("S", bound=Suggestion)

CONCURRENCY = 8
# Leading articles dropped before comparing titles ("The Matrix" is "Matrix, The" in some lists).
ARTICLES = frozenset({"the", "a", "an", "le", "la", "les", "l", "el", "los", "las", "der", "die", "das", "il", "lo"})
_ARTICLE_SUFFIX = re.compile(r",\s*(the|a|an)$", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Pick:
    """A real film and the model's one-line reason for it."""

    film: MovieSummary
    reason: str


def search_text(title: str) -> str:
    """What to search TMDB for: the title without a leading article, which TMDB's search
    matches either way ("Matrix" finds "The Matrix"; "The Heat" may not find "Heat")."""
    words = title.split()
    if len(words) > 1 and fold(words[0]) in ARTICLES:
        words = words[1:]
    return _ARTICLE_SUFFIX.sub("", " ".join(words))


def normal_title(title: str) -> str:
    """Case, accents, punctuation and a leading article do not make titles different."""
    text = _ARTICLE_SUFFIX.sub("", title.replace("&", " and "))
    words = fold(text).split()
    if len(words) > 1 and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def best_match(title: str, year: int | None, films: Sequence[MovieSummary]) -> MovieSummary | None:
    """The film named `title` (of `year`) among search results: same normalised title (or
    original title); the year decides between several, a year off by one (release dates differ
    by country) when none is exact; without a year, the most voted. None when no title matches,
    or when the year fits none of them (another film with that name)."""
    wanted = normal_title(title)
    if not wanted:
        return None
    same = [f for f in films if wanted in (normal_title(f.title), normal_title(f.original_title or ""))]
    if not same:
        return None
    if year is not None:
        for tolerance in (0, 1):
            close = [f for f in same if f.year is not None and abs(f.year - year) <= tolerance]
            if close:
                return max(close, key=lambda f: f.vote_count)
        return None
    return max(same, key=lambda f: f.vote_count)


async def find_film(
    catalog: MovieCatalog, title: str, year: int | None, locale: Locale | None = None
) -> MovieSummary | None:
    """The TMDB film named `title` (of `year`), through the cached search; None when none is."""
    try:
        page = await catalog.search(search_text(title), locale=locale)
    except BadInput:
        return None  # an empty or absurdly long title
    return best_match(title, year, page.results)


async def match_suggestions(
    catalog: MovieCatalog, suggestions: Sequence[Suggestion], locale: Locale | None = None
) -> list[Pick]:
    """Every suggestion searched at once (at most CONCURRENCY in flight), in the model's order,
    each film once. TMDB failing for every suggestion is TMDB's error, not "no match"."""
    return [Pick(film, suggestion.reason) for suggestion, film in await matched(catalog, suggestions, locale)]


async def matched(
    catalog: MovieCatalog, suggestions: Sequence[S], locale: Locale | None = None
) -> list[tuple[S, MovieSummary]]:
    """Each suggestion with the film it names (as `match_suggestions`), for callers that need
    more of the suggestion than its reason."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def match(suggestion: S) -> MovieSummary | None:
        async with gate:
            return await find_film(catalog, suggestion.title, suggestion.year, locale)

    found = await asyncio.gather(*(match(s) for s in suggestions), return_exceptions=True)
    failures = [f for f in found if isinstance(f, BaseException)]
    for failure in failures:
        if not isinstance(failure, MarqueeError):
            raise failure
    if failures and len(failures) == len(found):
        raise failures[0]
    if failures:
        log.info("matched without %d suggestions TMDB failed on: %s", len(failures), failures[0])
    pairs: list[tuple[S, MovieSummary]] = []
    seen: set[int] = set()
    for suggestion, film in zip(suggestions, found, strict=True):
        if isinstance(film, MovieSummary) and film.id not in seen:
            seen.add(film.id)
            pairs.append((suggestion, film))
    return pairs
