"""/ask: a request in plain words, answered by the LLM and matched to real TMDB films.

An answer is cached for a day by the normalised question, the model, the asker's region and
language (and the filters): the same question again costs no LLM call and no quota. Concurrent identical cold
questions share one flight (in this process, and across processes through the cache's lock).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import asyncpg
from pydantic import TypeAdapter

from services.ai import prompts
from services.ai.budget import Charge, UserLimits
from services.ai.filters import NO_FILTERS, Filters
from services.ai.llm import LLM, require_llm
from services.ai.matching import Pick, match_suggestions
from services.ai.schemas import MAX_SUGGESTIONS, Suggestions
from services.cache import Cache
from services.catalog import MovieCatalog, clean_query
from services.db import history
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import AIBadAnswer, AllDisliked, NoMatches
from services.feedback import FeedbackService
from services.metrics import Metrics
from services.text import same_question
from services.tmdb.reference import Locale

ANSWER_TTL = 24 * 3600.0
ANSWER_VERSION = 2  # bump when the prompt or the answer's shape changes: old answers then miss
PICKS_CODEC = TypeAdapter(tuple[Pick, ...])


@dataclass(frozen=True)
class AskAnswer:
    query: str
    picks: tuple[Pick, ...]
    search_id: int | None  # its search_history row; None when the database could not store it
    cached: bool  # answered without an LLM call


class AskService:
    def __init__(
        self,
        llm: LLM | None,
        *,
        cache: Cache,
        catalog: MovieCatalog,
        db: Database,
        limits: UserLimits,
        metrics: Metrics,
        feedback: FeedbackService,
    ) -> None:
        self._llm = llm
        self._cache = cache
        self._catalog = catalog
        self._db = db
        self._limits = limits
        self._metrics = metrics
        self._feedback = feedback

    def ensure_enabled(self) -> LLM:
        """The LLM, or AIDisabled (instant: commands check it before they defer)."""
        return require_llm(self._llm)

    def answer_key(self, query: str, filters: Filters = NO_FILTERS, locale: Locale | None = None) -> str:
        llm = self.ensure_enabled()
        locale = locale or self._catalog.default_locale
        text = f"{same_question(query)}\n{llm.model}\n{locale.region}:{locale.language}\n{filters.key()}"
        digest = hashlib.sha256(text.encode()).hexdigest()[:32]
        return f"ai:ask:v{ANSWER_VERSION}:{digest}"

    async def ask(
        self, discord_id: int, text: str, filters: Filters = NO_FILTERS, locale: Locale | None = None
    ) -> AskAnswer:
        """Films for the question, in the asker's `locale` (None: the defaults)."""
        llm = self.ensure_enabled()
        query = clean_query(text)
        locale = locale or self._catalog.default_locale
        await self._limits.admit(discord_id)
        key = self.answer_key(query, filters, locale)
        # A warm answer is read first so that it never touches the quota.
        hit = await self._cache.get(key, PICKS_CODEC)
        cached = hit is not None
        if hit is not None:
            picks = hit
        else:
            async with self._limits.charge(discord_id) as charge:
                picks, loaded = await self._cache.get_or_load(
                    key,
                    ANSWER_TTL,
                    lambda: self._answer(llm, query, charge, filters, locale),
                    PICKS_CODEC,
                    lock_seconds=llm.policy.deadline + 5,
                )
                cached = not loaded  # another request's flight answered it: free, like a cache hit
        self._metrics.ask_cache.labels("hit" if cached else "miss").inc()
        # The answer is shared (cached for everyone); what this user 👎'd is taken out of theirs.
        disliked = await self._feedback.disliked(discord_id)
        picks = tuple(p for p in picks if p.film.id not in disliked)
        if not picks:
            raise AllDisliked()
        search_id = await self._save(discord_id, query, picks, filters, locale)
        return AskAnswer(query, picks, search_id, cached)

    async def _answer(self, llm: LLM, query: str, charge: Charge, filters: Filters, locale: Locale) -> tuple[Pick, ...]:
        message = prompts.ask_message(query, filters.constraints())
        answer = await llm.structured("ask", prompts.ASK, message, Suggestions, charge=charge)
        suggestions = answer.suggestions[:MAX_SUGGESTIONS]
        if not suggestions:
            raise AIBadAnswer("empty")
        picks = await match_suggestions(self._catalog, suggestions, locale)
        if not picks:
            raise NoMatches()
        return await filters.apply(picks, self._catalog.runtime)

    async def _save(
        self, discord_id: int, query: str, picks: tuple[Pick, ...], filters: Filters, locale: Locale
    ) -> int | None:
        films = [p.film for p in picks]

        async def save(conn: asyncpg.Connection) -> int:
            await ensure_user(conn, discord_id)
            await self._catalog.store_in(conn, films, locale)
            ids = [f.id for f in films]
            return await history.add_search(conn, discord_id, "ask", query, movie_ids=ids, filters=filters.saved())

        # The answer does not depend on the history row: with the database down it still shows.
        return await self._db.best_effort("an /ask history row", save)
