"""/foryou: picks made from a user's own history, in two LLM calls.

1. The recent searches and watched films become a taste profile, stored with a fingerprint of
   the history it came from and reused until that history changes (then this call is skipped).
2. The profile, with the watched films and this week's earlier picks as exclusions, becomes
   suggestions, matched on TMDB like /ask's. Whatever the model says, a watched film or one
   shown by /foryou in the last week is never shown.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
from pydantic import TypeAdapter, ValidationError

from services.ai import prompts
from services.ai.budget import Charge, UserLimits
from services.ai.filters import NO_FILTERS, Filters
from services.ai.llm import LLM, require_llm
from services.ai.matching import Pick, match_suggestions
from services.ai.schemas import MAX_SUGGESTIONS, Suggestions, TasteProfile
from services.cache import Cache
from services.catalog import MovieCatalog
from services.db import feedback, history, profiles
from services.db.feedback import DISLIKE, LIKE
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import AIBadAnswer, NoMatches, NoNewPicks, NoProfile, NotEnoughHistory, OutOfDate
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)

MIN_HISTORY = 2
RECENT_SEARCHES = 20
RECENT_WATCHED = 50
RECENT_VERDICTS = 50
SHOWN_DAYS = 7
LAST_TTL = 24 * 3600.0  # "Show all" of a batch narrowed to the user's services works this long
PICKS_CODEC = TypeAdapter(tuple[Pick, ...])


@dataclass(frozen=True)
class ForYouPicks:
    picks: tuple[Pick, ...]
    profile: TasteProfile
    profile_reused: bool  # no LLM call was needed for the profile


@dataclass(frozen=True)
class History:
    searches: list[history.PastSearch]
    watched: list[history.WatchedFilm]
    shown: list[tuple[int, str]]
    stored: profiles.StoredProfile | None
    verdicts: list[feedback.Verdict]
    seen: frozenset[int] = frozenset()  # every film watched (an import brings thousands)

    @property
    def size(self) -> int:
        return len(self.searches) + len(self.watched) + len(self.verdicts)

    def ids(self, verdict: int) -> list[int]:
        return [v.movie_id for v in self.verdicts if v.verdict == verdict]

    def titles(self, verdict: int | None) -> list[str]:
        """The films given this verdict (None: rated, neither liked nor disliked), with their rating."""
        return [v.label for v in self.verdicts if v.verdict == verdict and (verdict is not None or v.rating)]

    def fingerprint(self, model: str) -> str:
        """Changes when a search is added, a film is marked or unmarked watched, or 👍/👎 change."""
        searches = ",".join(str(s.id) for s in self.searches)
        watched = ",".join(sorted(str(w.movie_id) for w in self.watched))
        verdicts = ",".join(sorted(f"{v.movie_id}:{v.verdict}:{v.rating}" for v in self.verdicts))
        parts = [model, searches, watched, verdicts]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()


# (picks, watched ids, 👍 ids, 👎 ids) -> the picks in the user's order of taste
Rerank = Callable[[Sequence[Pick], Sequence[int], Sequence[int], Sequence[int]], Awaitable[tuple[Pick, ...]]]


async def as_suggested(
    picks: Sequence[Pick], watched: Sequence[int], liked: Sequence[int], disliked: Sequence[int]
) -> tuple[Pick, ...]:
    return tuple(picks)


class ForYouService:
    """`rerank(picks, watched_ids)` orders the matched picks by the user's taste (embeddings)
    and may drop near-duplicates of watched films."""

    def __init__(
        self,
        llm: LLM | None,
        *,
        catalog: MovieCatalog,
        db: Database,
        limits: UserLimits,
        cache: Cache,
        rerank: Rerank = as_suggested,
    ) -> None:
        self._cache = cache
        self._llm = llm
        self._catalog = catalog
        self._db = db
        self._limits = limits
        self._rerank = rerank

    def ensure_enabled(self) -> LLM:
        return require_llm(self._llm)

    async def picks(self, discord_id: int, filters: Filters = NO_FILTERS, locale: Locale | None = None) -> ForYouPicks:
        llm = self.ensure_enabled()
        await self._limits.admit(discord_id)
        past = await self.history(discord_id)
        if past.size < MIN_HISTORY:
            raise NotEnoughHistory(past.size, MIN_HISTORY)
        async with self._limits.charge(discord_id) as charge:
            profile, reused = await self.taste_profile(llm, discord_id, past, charge)
            picks = await self._recommend(llm, profile, past, charge, filters, locale)

        async def remember(conn: asyncpg.Connection) -> None:
            await self._catalog.store_in(conn, [p.film for p in picks], locale)
            await profiles.mark_shown(conn, discord_id, [p.film.id for p in picks])

        await self._db.best_effort("/foryou picks shown", remember)
        await self._cache.set(f"ai:foryou:last:{discord_id}", picks, LAST_TTL, PICKS_CODEC)
        return ForYouPicks(picks, profile, reused)

    async def last_picks(self, discord_id: int) -> tuple[Pick, ...]:
        """The user's latest batch, whole (OutOfDate once it is gone: a day later, or Redis away)."""
        picks = await self._cache.get(f"ai:foryou:last:{discord_id}", PICKS_CODEC)
        if picks is None:
            raise OutOfDate("button")
        return picks

    async def profile(self, discord_id: int) -> TasteProfile:
        """The stored taste profile ("Why these?"); NoProfile before the first /foryou."""
        async with self._db.connection() as conn:
            stored = await profiles.get_profile(conn, discord_id)
        profile = _valid(stored)
        if profile is None:
            raise NoProfile()
        return profile

    async def history(self, discord_id: int) -> History:
        """What a user's picks are made from (and must leave out)."""
        async with self._db.connection() as conn:
            return History(
                await history.recent_searches(conn, discord_id, RECENT_SEARCHES),
                await history.watched_films(conn, discord_id, RECENT_WATCHED),
                await profiles.recently_shown(conn, discord_id, SHOWN_DAYS),
                await profiles.get_profile(conn, discord_id),
                await feedback.verdicts(conn, discord_id, RECENT_VERDICTS),
                frozenset(await history.watched_ids(conn, discord_id, limit=None)),
            )

    async def taste_profile(
        self, llm: LLM, discord_id: int, past: History, charge: Charge
    ) -> tuple[TasteProfile, bool]:
        """The user's taste profile: the stored one while its fingerprint holds (True: reused),
        else a new one from the model, stored for next time."""
        fingerprint = past.fingerprint(llm.model)
        if past.stored is not None and past.stored.fingerprint == fingerprint:
            stored = _valid(past.stored)
            if stored is not None:
                return stored, True
        searches = [f"{s.kind}: {s.query}" + (f" ({s.year})" if s.year else "") for s in past.searches]
        watched = [f"{w.title} ({w.release_date.year})" if w.release_date else w.title for w in past.watched]
        message = prompts.profile_message(searches, watched, past.titles(LIKE), past.titles(DISLIKE), past.titles(None))
        profile = (await llm.structured("foryou", prompts.PROFILE, message, TasteProfile, charge=charge)).trimmed()

        async def store(conn: asyncpg.Connection) -> None:
            await ensure_user(conn, discord_id)
            await profiles.save_profile(conn, discord_id, fingerprint, llm.model, profile.model_dump_json())

        await self._db.best_effort("a taste profile", store)
        return profile, False

    async def _recommend(
        self, llm: LLM, profile: TasteProfile, past: History, charge: Charge, filters: Filters, locale: Locale | None
    ) -> tuple[Pick, ...]:
        watched_titles = [w.title for w in past.watched]
        disliked_titles = [v.title for v in past.verdicts if v.verdict == DISLIKE]
        exclude = _unique([*watched_titles, *disliked_titles, *(title for _, title in past.shown)])
        message = prompts.picks_message(profile, exclude, filters.constraints())
        answer = await llm.structured("foryou", prompts.PICKS, message, Suggestions, charge=charge)
        if not answer.suggestions:
            raise AIBadAnswer("empty")
        matched = await match_suggestions(self._catalog, answer.suggestions[:MAX_SUGGESTIONS], locale)
        if not matched:
            raise NoMatches()
        excluded = set(past.seen) | {w.movie_id for w in past.watched} | {movie_id for movie_id, _ in past.shown}
        excluded |= set(past.ids(DISLIKE))
        fresh = [p for p in await filters.apply(matched, self._catalog.runtime) if p.film.id not in excluded]
        picks = await self._rerank(fresh, [w.movie_id for w in past.watched], past.ids(LIKE), past.ids(DISLIKE))
        if not picks:
            raise NoNewPicks()
        if len(picks) < len(matched):
            log.info("dropped %d /foryou picks watched, shown or too like a watched film", len(matched) - len(picks))
        return picks


def _valid(stored: profiles.StoredProfile | None) -> TasteProfile | None:
    if stored is None:
        return None
    try:
        return TasteProfile.model_validate_json(stored.profile)
    except ValidationError:
        return None


def _unique(titles: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(titles))
