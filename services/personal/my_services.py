"""`only_my_services`: a list narrowed to the films that stream (a flatrate offer) on the user's
services in their region. Each film's details say so for every region at once, cached per film
and language: a page of 20 costs at most 20 TMDB calls cold, none warm."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from services.catalog import MovieCatalog
from services.errors import MarqueeError, NoServicesChosen
from services.personal.settings import Preferences
from services.tmdb.models import Provider
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)
T = TypeVar("T")

FEW = 5  # fewer than this left: the list says so, and offers them all
CONCURRENCY = 8


@dataclass(frozen=True)
class OnMyServices(Generic[T]):
    films: list[T]  # those that stream on the user's services, in their order
    of: int  # how many there were to look at

    @property
    def few(self) -> bool:
        return len(self.films) < FEW

    @property
    def note(self) -> str:
        if not self.films:
            return "None of these films stream on your services"
        if self.few:
            return f"Only {len(self.films)} of these films stream on your services"
        return f"{len(self.films)} of {self.of} films stream on your services"


class MyServices:
    def __init__(self, catalog: MovieCatalog) -> None:
        self._catalog = catalog

    async def only(self, items: Sequence[T], film_id: Callable[[T], int], prefs: Preferences) -> OnMyServices[T]:
        """The items whose film streams on the user's services in their region; NoServicesChosen
        before they have picked any. A film TMDB cannot tell us about now is left out (it cannot
        be shown as streaming); TMDB failing for all of them is TMDB's error."""
        if not prefs.services:
            raise NoServicesChosen()
        on = await self.streaming_on([film_id(i) for i in items], prefs, strict=True)
        return OnMyServices([i for i in items if on.get(film_id(i))], len(items))

    async def streaming_on(
        self, movie_ids: Sequence[int], prefs: Preferences, *, strict: bool = False
    ) -> dict[int, tuple[str, ...]]:
        """Per film, the names of the user's services streaming it in their region (none: not
        there). A film TMDB cannot tell us about now is not in the answer; `strict`: TMDB failing
        for every film raises its error."""
        found = await self.flatrate(movie_ids, prefs.locale, strict=strict)
        return {i: tuple(p.name for p in providers if p.id in prefs.services) for i, providers in found.items()}

    async def flatrate(
        self, movie_ids: Sequence[int], locale: Locale, *, strict: bool = False
    ) -> dict[int, tuple[Provider, ...]]:
        """Per film, the services streaming it in the locale's region (as `streaming_on`)."""
        gate = asyncio.Semaphore(CONCURRENCY)

        async def streams(movie_id: int) -> tuple[Provider, ...]:
            async with gate:
                film = await self._catalog.details(movie_id, locale=locale)
            return film.in_region(locale.region).providers.flatrate

        found = await asyncio.gather(*(streams(i) for i in movie_ids), return_exceptions=True)
        failures = [f for f in found if isinstance(f, BaseException)]
        for failure in failures:
            if not isinstance(failure, MarqueeError):
                raise failure
        if strict and failures and len(failures) == len(found):
            raise failures[0]
        if failures:
            log.info("%d films TMDB could not tell us about: %s", len(failures), failures[0])
        return {i: names for i, names in zip(movie_ids, found, strict=True) if isinstance(names, tuple)}


def whose(
    providers: Sequence[Provider], services: Mapping[int, Sequence[int]]
) -> tuple[tuple[str, tuple[int, ...]], ...]:
    """The providers some of these people have (`services`: person -> their provider ids), each
    with who has it: [("Netflix", (ana, bo))]."""
    found = []
    for provider in providers:
        owners = tuple(person for person, theirs in services.items() if provider.id in theirs)
        if owners:
            found.append((provider.name, owners))
    return tuple(found)
