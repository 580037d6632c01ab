"""Films from TMDB for the rest of the app: lists, search, details, title resolution and
autocomplete suggestions. Films TMDB sends us are remembered in `movies`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg

from services.db import movies as movie_repo
from services.db.pool import Database
from services.errors import BadInput, DatabaseUnavailable, MarqueeError, MovieNotFound
from services.text import fold, one_line
from services.tmdb.client import Fetched, TMDBClient
from services.tmdb.models import LIST_KINDS, ImageConfig, MovieDetails, MoviePage, MovieSummary
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 200
MAX_PAGE = 500
SUGGEST_DEADLINE = 1.5  # seconds autocomplete waits for TMDB before answering from what we have


def clean_query(text: str) -> str:
    """Trim and check a user's free text; BadInput says plainly what is wrong with it."""
    query = one_line(text)
    if not query:
        raise BadInput("Type a few words to search for.")
    if len(query) > MAX_QUERY_LENGTH:
        raise BadInput(f"That is {len(query)} characters; keep it under {MAX_QUERY_LENGTH}.")
    return query


@dataclass(frozen=True)
class Resolved:
    """The film a title named, and other films with exactly that title ("Not this one?")."""

    film: MovieDetails
    others: tuple[MovieSummary, ...] = ()


FilmsChanged = Callable[[list[int]], Awaitable[object]]


class MovieCatalog:
    """`on_change` (the embedding queue) hears of every film that enters `movies`, and of every
    film whose details TMDB has just sent again (its text may have changed; the queue's worker
    re-embeds only a text it does not have).

    Every lookup takes the user's `locale` (None: the configured defaults). `movies` keeps the
    configured language: films TMDB sends in another enter it when new, never rewrite it."""

    def __init__(self, tmdb: TMDBClient, db: Database, on_change: FilmsChanged | None = None) -> None:
        self._tmdb = tmdb
        self._db = db
        self.on_change = on_change

    async def browse(self, kind: str, page: int = 1, locale: Locale | None = None) -> MoviePage:
        if kind not in LIST_KINDS:
            raise BadInput(f"There is no list called {kind!r}; pick one of: {', '.join(LIST_KINDS)}.")
        if not 1 <= page <= MAX_PAGE:
            raise BadInput(f"Pages go from 1 to {MAX_PAGE}.")
        region, language = (locale.region, locale.language) if locale else (None, None)
        fetched = await self._tmdb.movie_list(kind, page, region=region, language=language)
        if fetched.fresh:
            await self._remember(fetched.data.results, locale=locale)
        return await _less_previous(
            fetched.data, lambda: self._tmdb.movie_list(kind, page - 1, region=region, language=language)
        )

    async def refresh_list(self, kind: str) -> MoviePage:
        """Reload a list's first page from TMDB into the cache, whatever is cached (refresh ahead)."""
        fetched = await self._tmdb.movie_list(kind, 1, refresh=True)
        await self._remember(fetched.data.results)
        return fetched.data

    async def search(
        self, text: str, *, year: int | None = None, page: int = 1, locale: Locale | None = None
    ) -> MoviePage:
        if not 1 <= page <= MAX_PAGE:
            raise BadInput(f"Pages go from 1 to {MAX_PAGE}.")
        query = clean_query(text)
        language = locale.language if locale else None
        fetched = await self._tmdb.search(query, year=year, page=page, language=language)
        if fetched.fresh:
            await self._remember(fetched.data.results, locale=locale)
        return await _less_previous(
            fetched.data, lambda: self._tmdb.search(query, year=year, page=page - 1, language=language)
        )

    async def find_imdb(self, imdb_id: str) -> MovieSummary | None:
        """The film of an IMDb title id, in the catalogue's language (None: TMDB has no film for it)."""
        page = (await self._tmdb.find_imdb(imdb_id)).data
        return page.results[0] if page.results else None

    async def recommendations(self, movie_id: int, locale: Locale | None = None) -> MoviePage:
        if not 0 < movie_id < 2**31:
            raise MovieNotFound(movie_id)
        fetched = await self._tmdb.recommendations(movie_id, language=locale.language if locale else None)
        if fetched.fresh:
            await self._remember(fetched.data.results, locale=locale)
        return fetched.data

    async def discover(self, filters: dict[str, str], page: int) -> tuple[MoviePage, list[int]]:
        """A discover page, stored (or DatabaseUnavailable), and the ids of its films that were
        new to the catalogue."""
        fetched = await self._tmdb.discover(filters, page)
        return fetched.data, await self._store(fetched.data.results)

    async def list_page(self, kind: str, page: int) -> tuple[MoviePage, list[int]]:
        """A list page as TMDB has it (no de-duplication against the page before), stored (or
        DatabaseUnavailable), and the ids of its films that were new to the catalogue."""
        fetched = await self._tmdb.movie_list(kind, page)
        return fetched.data, await self._store(fetched.data.results)

    async def details(
        self, movie_id: int, *, notify: bool = True, locale: Locale | None = None, refresh: bool = False
    ) -> MovieDetails:
        """A film's details (every region's offers and dates in them); `notify` False for the
        embedding pipeline itself (it is the one `on_change` would tell); `refresh`: from TMDB
        now, whatever is cached (the cache is renewed)."""
        if not 0 < movie_id < 2**31:
            raise MovieNotFound(movie_id)
        fetched = await self._tmdb.details(movie_id, language=locale.language if locale else None, refresh=refresh)
        details = fetched.data
        if fetched.fresh:
            runtimes = {details.id: details.runtime} if details.runtime else None
            await self._remember([details.summary], runtimes, notify=False, locale=locale)
            if notify and self.on_change is not None and self.speaks(locale):  # new, or perhaps changed
                await self.on_change([details.id])
        return details

    async def store_in(
        self,
        conn: asyncpg.Connection,
        films: Sequence[MovieSummary],
        locale: Locale | None,
        runtimes: dict[int, int] | None = None,
    ) -> list[int]:
        """Store films TMDB sent in `locale` inside the caller's transaction: in the catalogue's
        own language they insert or refresh; in another, only new ones enter (the ids new)."""
        return await movie_repo.upsert_movies(conn, films, runtimes, keep_existing=not self.speaks(locale))

    @property
    def default_locale(self) -> Locale:
        return Locale(self._tmdb.region, self._tmdb.language)

    def speaks(self, locale: Locale | None) -> bool:
        """Whether answers in `locale` are in the catalogue's own language."""
        return locale is None or locale.language == self._tmdb.language

    async def known(self, movie_ids: Sequence[int]) -> list[MovieSummary]:
        """The films, in order, from the catalogue we keep; TMDB (cached) only for those it lacks
        (MovieNotFound for an id TMDB does not have either)."""
        async with self._db.connection() as conn:
            stored = await movie_repo.by_ids(conn, movie_ids)
        missing = [i for i in movie_ids if i not in stored]
        fetched = await asyncio.gather(*(self.details(i) for i in missing))
        stored.update({f.id: f.summary for f in fetched})
        return [stored[i] for i in movie_ids]

    async def runtime(self, movie_id: int) -> int | None:
        """A film's runtime in minutes, None when TMDB does not know it."""
        return (await self.details(movie_id)).runtime

    async def resolve(self, title: str, locale: Locale | None = None) -> Resolved:
        """A film from an autocomplete value (its TMDB id) or from a title typed by hand.

        Digits are an id, unless a film's title is exactly those digits ("1917", "300"): that
        film wins. A typed title several films share comes back with the others, to offer them.
        """
        text = one_line(title)
        if not text:
            raise BadInput("Type a film's title, or pick one from the list.")
        if not (text.isascii() and text.isdigit()):
            page = await self.search(text, locale=locale)
            if not page.results:
                raise MovieNotFound(text)
            return await self._pick(page, text, locale)
        # Digits: most often an autocomplete id. Ask for the id and search the digits as a title at
        # once, so a pick costs one round trip; a search that fails leaves the id to decide.
        titled, by_id = await asyncio.gather(
            self.search(text, locale=locale), self.details(int(text), locale=locale), return_exceptions=True
        )
        if isinstance(titled, MoviePage) and any(fold(f.title) == fold(text) for f in titled.results):
            return await self._pick(titled, text, locale)
        if isinstance(by_id, BaseException):
            raise by_id
        return Resolved(by_id)

    async def _pick(self, page: MoviePage, text: str, locale: Locale | None) -> Resolved:
        """The film a search for `text` names: an exact title first, with the others sharing it."""
        same = [f for f in page.results if fold(f.title) == fold(text)]
        chosen = (same or list(page.results))[0]
        return Resolved(await self.details(chosen.id, locale=locale), tuple(f for f in same if f.id != chosen.id))

    async def suggest(self, text: str, limit: int = 25) -> list[MovieSummary]:
        """Autocomplete: TMDB search when it answers in time, else the films we already know.

        Never raises: a slow TMDB keeps loading in the background and fills the cache for
        the next keystroke.
        """
        query = one_line(text)[:MAX_QUERY_LENGTH]
        try:
            # One deadline for every keystroke, the empty one too: TMDB keeps loading behind it.
            if not query:
                return list((await asyncio.wait_for(self.browse("popular"), SUGGEST_DEADLINE)).results[:limit])
            page = await asyncio.wait_for(self._tmdb.search(query), SUGGEST_DEADLINE)
            return list(page.data.results[:limit])
        except (TimeoutError, MarqueeError):
            pass
        if not query:
            return []
        try:
            async with self._db.connection() as conn:
                return await movie_repo.find_by_title_prefix(conn, query, limit)
        except DatabaseUnavailable:
            return []

    async def image_config(self) -> ImageConfig:
        return await self._tmdb.image_config()

    async def genre_names(self) -> dict[int, str]:
        return await self._tmdb.genres()

    async def _remember(
        self,
        films: Sequence[MovieSummary],
        runtimes: dict[int, int] | None = None,
        *,
        notify: bool = True,
        locale: Locale | None = None,
    ) -> list[int]:
        """Store films in `movies` as a side effect of an answer: a database hiccup must not cost
        the user their answer, so a failure is logged and nothing is new."""
        try:
            return await self._store(films, runtimes, notify=notify, locale=locale)
        except DatabaseUnavailable as exc:
            log.warning("could not store %d films: %s", len(films), exc)
            return []

    async def _store(
        self,
        films: Sequence[MovieSummary],
        runtimes: dict[int, int] | None = None,
        *,
        notify: bool = True,
        locale: Locale | None = None,
    ) -> list[int]:
        """Store films in `movies` (committed when it returns; a film the database refuses is left
        out, the rest stored); the ids that are new there, handed to `on_change` if `notify`.
        DatabaseUnavailable when the database is away or the store failed as a whole."""
        async with self._db.transaction_or_unavailable() as conn:
            new = await self.store_in(conn, films, locale, runtimes)
        if notify and new and self.on_change is not None:
            await self.on_change(new)
        return new


async def _less_previous(page: MoviePage, previous: Callable[[], Awaitable[Fetched[MoviePage]]]) -> MoviePage:
    """`page` without the films the page before it showed: lists shift while someone pages, and
    a film that moved down must not be shown twice. The page before is nearly always cached;
    when it cannot be had, the page is shown as it is rather than not at all."""
    if page.page == 1:
        return page
    try:
        before = (await previous()).data
    except MarqueeError as exc:
        log.info("showing page %d without de-duplication: %s", page.page, exc)
        return page
    return page.without(f.id for f in before.results)
