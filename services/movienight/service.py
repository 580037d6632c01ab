"""/movienight: films for a group's blended tastes, then a vote that closes on time.

Picks: each participant's /foryou taste profile (reused while their history is unchanged; too
little history counts as neutral), one LLM call for the group, matched on TMDB; whatever the
model says, nothing a participant watched or 👎'd is kept. It all counts once against the
host's daily AI quota, given back when too few films are left or TMDB fails.

Votes and closing go through the night's row lock (services/db/movienight.py), so each night
closes once whichever bot process closes it, and no vote lands after. Showing the night (the
message, its edits, the winner's card) is the caller's: it is handed plain values.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from services.ai.budget import UserLimits
from services.ai.filters import Filters
from services.ai.foryou import MIN_HISTORY, ForYouService, History
from services.ai.llm import LLM, require_llm
from services.ai.matching import Pick, matched
from services.ai.schemas import MAX_SUGGESTIONS, TasteProfile
from services.catalog import MovieCatalog
from services.db import movienight as repo
from services.db.feedback import DISLIKE
from services.db.pool import Database
from services.db.users import ensure_user
from services.errors import (
    DatabaseUnavailable,
    FilteredOut,
    MarqueeError,
    NightClosed,
    NotInvited,
    OnlyTheHost,
    OutOfDate,
    ServiceUnavailable,
    TooFewForNight,
    VoteNotCounted,
)
from services.movienight.models import MAX_CANDIDATES, Candidate, Closing, Night, Plan, Tally, Vote
from services.movienight.picks import NIGHT, NightSuggestion, NightSuggestions, night_message, suited
from services.personal.my_services import MyServices, whose
from services.personal.settings import UserSettingsService
from services.tmdb.reference import Locale

log = logging.getLogger(__name__)

MIN_CANDIDATES = 2
GIVE_UP_AFTER = 10  # failed attempts to show a close (Discord erroring) before the night is let go


class NightGone(Exception):
    """Raised by whoever shows a night when its message or channel is gone for good (deleted,
    or the bot lost access): the night is then closed quietly."""


ShowTally = Callable[[Night, Tally], Awaitable[None]]
ShowClose = Callable[[Closing], Awaitable[None]]


class MovieNightService:
    def __init__(
        self,
        llm: LLM | None,
        *,
        foryou: ForYouService,
        catalog: MovieCatalog,
        db: Database,
        limits: UserLimits,
        user_settings: UserSettingsService,
        my_services: MyServices,
    ) -> None:
        self._llm = llm
        self._foryou = foryou
        self._catalog = catalog
        self._db = db
        self._limits = limits
        self._user_settings = user_settings
        self._my_services = my_services

    def ensure_enabled(self) -> LLM:
        return require_llm(self._llm)

    # ------------------------------------------------------------------ the picks
    async def plan(
        self,
        host_id: int,
        members: Sequence[int],
        filters: Filters,
        locale: Locale,
        *,
        only_their_services: bool = False,
    ) -> Plan:
        """Up to 5 candidates for the host and members (TooFewForNight under 2)."""
        llm = self.ensure_enabled()
        await self._limits.admit(host_id)
        participants = (host_id, *members)
        pasts = await asyncio.gather(*(self._foryou.history(person) for person in participants))
        neutral = tuple(p for p, past in zip(participants, pasts, strict=True) if past.size < MIN_HISTORY)
        async with self._limits.charge(host_id) as charge:

            async def profile(person: int, past: History) -> TasteProfile | None:
                if person in neutral:
                    return None
                return (await self._foryou.taste_profile(llm, person, past, charge))[0]

            blend = await asyncio.gather(*(profile(p, past) for p, past in zip(participants, pasts, strict=True)))
            message = night_message(blend, _excluded_titles(pasts), filters.constraints())
            answer = await llm.structured("movienight", NIGHT, message, NightSuggestions, charge=charge)
            try:
                candidates = await self._candidates(answer.suggestions, participants, pasts, filters, locale)
                if only_their_services:
                    candidates = await self._on_their_services(candidates, participants, locale)
            except (ServiceUnavailable, TooFewForNight):
                charge.refund()  # TMDB away or too little left: not the host's doing
                raise
        return Plan(candidates, neutral)

    async def _candidates(
        self,
        suggestions: Sequence[NightSuggestion],
        participants: Sequence[int],
        pasts: Sequence[History],
        filters: Filters,
        locale: Locale,
    ) -> tuple[Candidate, ...]:
        pairs = await matched(self._catalog, suggestions[:MAX_SUGGESTIONS], locale)
        excluded: set[int] = set()
        for past in pasts:
            excluded |= past.seen | {w.movie_id for w in past.watched} | set(past.ids(DISLIKE))
        fresh = [(s, film) for s, film in pairs if film.id not in excluded]
        try:
            kept = await filters.apply([Pick(film, s.reason) for s, film in fresh], self._catalog.runtime)
        except FilteredOut:
            kept = ()
        by_id = {film.id: s for s, film in fresh}
        candidates = tuple(
            Candidate(p.film.id, p.film.title, p.film.year, p.reason, suited(by_id[p.film.id].suits, participants))
            for p in kept[:MAX_CANDIDATES]
        )
        if len(candidates) < MIN_CANDIDATES:
            raise TooFewForNight(len(candidates), filters.any)
        return candidates

    async def _on_their_services(
        self, candidates: tuple[Candidate, ...], participants: Sequence[int], locale: Locale
    ) -> tuple[Candidate, ...]:
        """The candidates that stream in the host's region on a service some participant has."""
        services = await self._services_of(participants)
        offers = await self._my_services.flatrate([c.tmdb_id for c in candidates], locale, strict=True)
        kept = []
        for candidate in candidates:
            streams = whose(offers.get(candidate.tmdb_id, ()), services)
            if streams:
                kept.append(replace(candidate, streams=streams))
        if len(kept) < MIN_CANDIDATES:
            raise TooFewForNight(len(kept), True)
        return tuple(kept)

    async def _services_of(self, participants: Sequence[int]) -> dict[int, tuple[int, ...]]:
        return {p: (await self._user_settings.get(p)).services for p in participants}

    # ------------------------------------------------------------------ the night
    async def open(
        self,
        plan: Plan,
        *,
        guild_id: int,
        channel_id: int,
        host_id: int,
        members: Sequence[int],
        names: dict[int, str],
        locale: Locale,
        minutes: int,
        members_only: bool,
    ) -> Night:
        """Store the night (before its message is posted: its buttons carry its id)."""
        async with self._db.transaction() as conn:
            await ensure_user(conn, host_id)
            return await repo.create(
                conn,
                guild_id=guild_id,
                channel_id=channel_id,
                host_id=host_id,
                members=members,
                members_only=members_only,
                region=locale.region,
                language=locale.language,
                candidates=plan.candidates,
                neutral=plan.neutral,
                names=names,
                minutes=minutes,
            )

    async def posted(self, night_id: int, message_id: int) -> None:
        async with self._db.transaction() as conn:
            await repo.set_message(conn, night_id, message_id)

    async def discard(self, night_id: int) -> None:
        """Its message could not be posted: the night never was."""
        async with self._db.transaction() as conn:
            await repo.delete(conn, night_id)

    async def vote(self, night_id: int, message_id: int | None, voter_id: int, choice: int) -> Vote:
        """Record a vote from the night's message (OutOfDate for any other: a forged id)."""
        try:
            async with self._db.transaction_or_unavailable() as conn:
                night = _night_of(await repo.get(conn, night_id, "vote"), message_id)
                if night.status != "open" or night.closes_at <= datetime.now(UTC):
                    raise NightClosed()
                if not night.may_vote(voter_id):
                    raise NotInvited()
                if not 1 <= choice <= len(night.candidates):
                    raise OutOfDate("button")
                await ensure_user(conn, voter_id)
                changed = await repo.vote(conn, night_id, voter_id, choice)
        except DatabaseUnavailable as exc:
            raise VoteNotCounted() from exc
        return Vote(night.candidates[choice - 1], changed)

    async def show_tally(self, night_id: int, show: ShowTally) -> None:
        """Show an open night's current tally (nothing once it is closed)."""
        async with self._db.transaction() as conn:
            night = await repo.get(conn, night_id, "tally")
            if night is None or night.status != "open" or night.message_id is None:
                return
            tally = await repo.tally(conn, night_id, len(night.candidates))
            try:
                await show(night, tally)
            except NightGone:
                log.info("movie night %d: its message is gone; closed quietly", night_id)
                await repo.finish(conn, night_id, "gone", None)

    async def close(
        self, night_id: int, show: ShowClose, *, by: int | None = None, message_id: int | None = None
    ) -> Closing | None:
        """Close a night: by its host (`by`, from its message), or because its time is up. The
        final tally and the winner are shown (`show`) under the row lock, then stored; None
        when there was nothing to do (already closed, by another process maybe, or not due)."""
        async with self._db.transaction() as conn:
            row = await repo.get(conn, night_id, "close")
            night = _night_of(row, message_id) if by is not None else row
            if night is None:
                return None
            if by is not None and by != night.host_id:
                raise OnlyTheHost()
            if night.status != "open":
                if by is not None:
                    raise NightClosed()
                return None
            if by is None and night.closes_at > datetime.now(UTC):
                return None
            if night.message_id is None:  # never posted
                await repo.finish(conn, night_id, "gone", None)
                return None
            tally = await repo.tally(conn, night_id, len(night.candidates))
            winner = night.candidates[tally.winner - 1] if tally.winner else None
            closing = Closing(night, tally, winner, await self._streams(night, winner))
            try:
                await show(closing)
            except NightGone:
                log.info("movie night %d: its message or channel is gone; closed quietly", night_id)
                await repo.finish(conn, night_id, "gone", tally.winner)
                return None
            await repo.finish(conn, night_id, "closed", tally.winner)
        return closing

    async def close_failed(self, night_id: int) -> None:
        """Showing the close failed (Discord erroring): it is tried again, GIVE_UP_AFTER times."""
        async with self._db.transaction() as conn:
            if await repo.failed_to_close(conn, night_id) >= GIVE_UP_AFTER:
                log.warning("movie night %d: gave up showing its close after %d tries", night_id, GIVE_UP_AFTER)
                await repo.finish(conn, night_id, "gone", None)

    async def _streams(self, night: Night, winner: Candidate | None) -> tuple[tuple[str, tuple[int, ...]], ...]:
        """Which participants' services stream the winner in the host's region (none when TMDB
        cannot say now: the card shows without it)."""
        if winner is None:
            return ()
        try:
            services = await self._services_of(night.participants)
            offers = await self._my_services.flatrate([winner.tmdb_id], Locale(night.region, night.language))
        except MarqueeError as exc:
            log.info("movie night %d: no streaming line for its winner: %s", night.id, exc)
            return ()
        return whose(offers.get(winner.tmdb_id, ()), services)

    async def due(self) -> list[int]:
        async with self._db.connection() as conn:
            return await repo.due(conn)

    async def next_due(self) -> datetime | None:
        async with self._db.connection() as conn:
            return await repo.next_due(conn)


def _night_of(night: Night | None, message_id: int | None) -> Night:
    """The night a button belongs to: the one whose message it is on (a forged id names another)."""
    if night is None or night.message_id is None or night.message_id != message_id:
        raise OutOfDate("button")
    return night


def _excluded_titles(pasts: Sequence[History]) -> list[str]:
    titles = [w.title for past in pasts for w in past.watched]
    titles += [v.title for past in pasts for v in past.verdicts if v.verdict == DISLIKE]
    return list(dict.fromkeys(titles))
