"""Domain exceptions, shared by services. Each carries the short message its user is told
(`user_message`); bot/errors.py is the one place that delivers it."""

from __future__ import annotations

import math
from datetime import datetime
from typing import ClassVar

from services.text import quote as _quote


class MarqueeError(Exception):
    """Base class of the errors a user or operator is told about."""

    # Said after the message when the failed request still cost the user one of their free AI
    # requests (the model had answered); set by the quota (services/ai/budget.py).
    quota_note: str | None = None

    @property
    def user_message(self) -> str | None:
        """What the user is told; None for an error no user should see (config, start-up)."""
        return None


class ConfigError(MarqueeError):
    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting} {problem}")
        self.setting = setting
        self.problem = problem


class StartupError(MarqueeError):
    """The process cannot start; `str()` is the one line the operator reads."""


class Told(MarqueeError):
    """An error whose `message`, written where it is raised, is what the user is told."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def user_message(self) -> str:
        return self.message


class BadInput(Told):
    """The user typed something we cannot use; `message` says what, plainly."""


class ServiceUnavailable(MarqueeError):
    """An outside service stayed down after retries."""

    def __init__(self, service: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.reason = reason
        self.retry_after = retry_after

    @property
    def user_message(self) -> str:
        if self.retry_after:
            return f"{self.service} is busy right now. Try again in {max(1, round(self.retry_after))} seconds."
        return f"{self.service} isn't answering right now. Try again in a minute."


class TMDBUnavailable(ServiceUnavailable):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__("TMDB", reason, retry_after)


class TMDBAuthError(ServiceUnavailable):
    """TMDB refused our token: an operator problem, not a user one."""

    def __init__(self) -> None:
        super().__init__("TMDB", "the TMDB token was refused (401)")

    @property
    def user_message(self) -> str:
        return "Marquee can't reach TMDB right now (the bot's TMDB access was refused). The operator has been told."


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self, reason: str) -> None:
        super().__init__("database", reason)

    @property
    def user_message(self) -> str:
        return "Marquee's database is unreachable right now. Try again in a minute."


class ShuttingDown(MarqueeError):
    """The process is stopping and takes no new interactions."""

    @property
    def user_message(self) -> str:
        return "Marquee is restarting. Try again in a few seconds."


class NotYours(MarqueeError):
    """A component that only the person who ran the command may use."""

    @property
    def user_message(self) -> str:
        return "These controls belong to whoever ran the command; run it yourself to get your own."


class OutOfDate(MarqueeError):
    """A button or select whose data is not what the bot sent (a custom id no item matches, a
    value that is not one of its options): answered like a control from an old message."""

    def __init__(self, control: str = "menu") -> None:
        super().__init__(f"an out-of-date {control}")
        self.control = control

    @property
    def user_message(self) -> str:
        return f"This {self.control} is out of date; run the command again for a fresh one."


class MovieNotFound(MarqueeError):
    def __init__(self, query: str | int) -> None:
        super().__init__(f"no film matches {query!r}")
        self.query = query

    @property
    def user_message(self) -> str:
        if isinstance(self.query, int):
            return "I couldn't find that film on TMDB. Try `/search` with a few words of its title."
        return f"I couldn't find a film matching “{_quote(self.query)}”. Try `/search` with fewer words."


class NoResults(MarqueeError):
    """A search that found nothing."""

    def __init__(self, shown: str) -> None:
        super().__init__(f"no results for {shown!r}")
        self.shown = shown

    @property
    def user_message(self) -> str:
        return f"No films match {_quote(self.shown)}. Try fewer or different words, or drop the year."


class NoTrailer(MarqueeError):
    def __init__(self, label: str) -> None:
        super().__init__(f"no trailer for {label!r}")
        self.label = label

    @property
    def user_message(self) -> str:
        return f"TMDB has no trailer for “{_quote(self.label)}” yet. `/movie` shows its card."


class NotReleased(MarqueeError):
    def __init__(self, label: str, when: str) -> None:
        super().__init__(f"{label!r} is not out yet")
        self.label = label
        self.when = when

    @property
    def user_message(self) -> str:
        return f"“{_quote(self.label)}” isn't out yet (coming {self.when}), so it can't be marked watched."


# ------------------------------------------------------------------------------------------ AI


class AIDisabled(MarqueeError):
    @property
    def user_message(self) -> str:
        return "AI features are not configured on this bot. Everything else works: try `/search` or `/browse`."


class AIUnavailable(ServiceUnavailable):
    """The LLM stayed down, stayed busy past what an interaction may wait, or refused us."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__("The AI", reason, retry_after)


class EmbeddingsUnavailable(ServiceUnavailable):
    """The embeddings API stayed down or busy, or refused the request."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__("The AI", reason, retry_after)


class AIBadAnswer(MarqueeError):
    """The model answered, but not with something usable."""

    MESSAGES: ClassVar[dict[str, str]] = {
        "refused": "The AI declined that request. Try asking for films in a different way.",
        "truncated": "The AI's answer was cut short. Try a shorter or simpler request.",
        "malformed": "The AI sent an answer I couldn't read. Please try again.",
        "empty": "The AI had no suggestions for that. Try rewording it.",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(f"unusable AI answer: {kind}")
        self.kind = kind

    @property
    def user_message(self) -> str:
        return self.MESSAGES[self.kind]


class NoMatches(MarqueeError):
    @property
    def user_message(self) -> str:
        return "I couldn't match any of the AI's suggestions to real films; try rewording."


class FilteredOut(MarqueeError):
    """No film the model suggested meets a filter (`what` says which, as a person would)."""

    def __init__(self, what: str) -> None:
        super().__init__(f"no suggestion is {what}")
        self.what = what

    @property
    def user_message(self) -> str:
        return f"None of the films the AI suggested are {self.what}. Try loosening that filter."


class AllDisliked(MarqueeError):
    @property
    def user_message(self) -> str:
        return "Every film the AI suggested is one you marked 👎. Try asking in other words."


class NoNewPicks(MarqueeError):
    @property
    def user_message(self) -> str:
        return (
            "I couldn't find picks you haven't seen or been shown this week. "
            "Mark a few more films with `/watched` or try again later."
        )


class NotEnoughHistory(MarqueeError):
    def __init__(self, have: int, need: int) -> None:
        super().__init__(f"{have} history items, {need} needed")
        self.have, self.need = have, need

    @property
    def user_message(self) -> str:
        return (
            f"I need at least {self.need} searches, watched films or 👍/👎 to learn your taste (you have {self.have}). "
            "Try `/ask` or `/search` for something you like, or mark films with `/watched`, then run `/foryou` again."
        )


class NoProfile(MarqueeError):
    @property
    def user_message(self) -> str:
        return "I haven't worked out your taste yet: run `/foryou` first."


class RateLimited(MarqueeError):
    def __init__(self, wait: float) -> None:
        super().__init__(f"rate limited for {wait:.1f}s")
        self.wait = wait

    @property
    def user_message(self) -> str:
        return f"Easy there: you can use AI commands again in {max(1, math.ceil(self.wait))} s."


class QuotaExceeded(MarqueeError):
    def __init__(self, limit: int, resets_at: datetime, upsell: bool) -> None:
        super().__init__(f"daily AI quota of {limit} used")
        self.limit, self.resets_at, self.upsell = limit, resets_at, upsell

    @property
    def user_message(self) -> str:
        text = (
            f"You've used today's {self.limit} free AI requests (`/ask`, `/foryou` and `/movienight`). "
            f"They reset <t:{int(self.resets_at.timestamp())}:R> (midnight UTC). "
            "Answers already asked today are still free."
        )
        return text + (" Pro has no daily cap: `/upgrade`." if self.upsell else "")


class BudgetSpent(MarqueeError):
    def __init__(self, resets_at: datetime) -> None:
        super().__init__("the daily AI token budget is spent")
        self.resets_at = resets_at

    @property
    def user_message(self) -> str:
        return (
            "This bot has used up its AI allowance for today. "
            f"AI commands are back <t:{int(self.resets_at.timestamp())}:R> (midnight UTC); everything else works."
        )


# ------------------------------------------------------------------------------------- billing


class StripeUnavailable(ServiceUnavailable):
    def __init__(self, reason: str) -> None:
        super().__init__("Stripe", reason)

    @property
    def user_message(self) -> str:
        return (
            "Payments are unavailable right now (Stripe isn't answering). Nothing was charged; try again in a minute."
        )


class StripeRefused(MarqueeError):
    """Stripe answered 4xx: our request or our record is wrong (logged with Stripe's request id)."""

    def __init__(self, what: str, status: int, request_id: str | None) -> None:
        super().__init__(f"Stripe refused to {what} (HTTP {status}, request {request_id})")
        self.what, self.status, self.request_id = what, status, request_id

    @property
    def user_message(self) -> str:
        return (
            "Stripe turned down this payment request, so nothing was charged. "
            "The bot's operator has been told; try again later."
        )


class NoSuchCustomer(StripeRefused):
    """The Stripe customer we stored is gone (deleted at Stripe, or made with the other mode's keys)."""


class ProRequired(MarqueeError):
    def __init__(self, command: str) -> None:
        super().__init__(f"/{command} needs Pro")
        self.command = command

    @property
    def user_message(self) -> str:
        return f"`/{self.command}` is part of Marquee Pro. `/upgrade` to get it (and no daily AI cap)."


class BillingOff(MarqueeError):
    @property
    def user_message(self) -> str:
        return "This bot doesn't sell a Pro plan: every command is already open to everyone here."


class NoEmbeddings(MarqueeError):
    """Semantic search before any film of the catalogue has been embedded."""

    @property
    def user_message(self) -> str:
        return (
            "The catalogue isn't indexed for search by meaning yet; it fills in the background "
            "(an operator can run `marquee catalog sync`). Try `/ask` meanwhile."
        )


class NoWords(MarqueeError):
    """A query with nothing to search for by meaning (only emoji or punctuation)."""

    @property
    def user_message(self) -> str:
        return "Describe what you're after in a few words, e.g. `films about obsession`."


class NoSimilar(MarqueeError):
    def __init__(self, label: str) -> None:
        super().__init__(f"nothing similar to {label!r}")
        self.label = label

    @property
    def user_message(self) -> str:
        return f"I have no films like {_quote(self.label)} to suggest yet. Try `/ask` with what you liked about it."


class NotOffered(MarqueeError):
    """A setting's value TMDB does not list; `offered` says what TMDB would have offered."""

    offered: ClassVar[str]

    def __init__(self, text: str) -> None:
        super().__init__(f"not {self.offered}: {text!r}")
        self.text = text

    @property
    def user_message(self) -> str:
        return f"“{_quote(self.text, 40)}” isn't {self.offered}; pick one from the list."


class NotARegion(NotOffered):
    offered = "a region TMDB has streaming data for"


class NotALanguage(NotOffered):
    offered = "a language TMDB translates into"


class NoServicesChosen(MarqueeError):
    """`only_my_services` asked for by someone who has not said which services they have."""

    @property
    def user_message(self) -> str:
        return "You haven't picked your streaming services yet: choose them in `/settings`, then try again."


class FileRefused(BadInput):
    """An import file Marquee will not read (format, size, columns, encoding); nothing is imported."""


class ImportRunning(MarqueeError):
    def __init__(self, source: str) -> None:
        super().__init__(f"an import from {source} is running")
        self.source = source

    @property
    def user_message(self) -> str:
        return (
            f"Your import from {self.source.title()} is still running: its summary comes when it ends. "
            "Start the next one after that."
        )


class TraktOff(MarqueeError):
    @property
    def user_message(self) -> str:
        return "Trakt import isn't set up on this bot (its operator can turn it on; see `marquee doctor`)."


class TraktUnavailable(ServiceUnavailable):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__("Trakt", reason, retry_after)


class ProStillActive(MarqueeError):
    """Delete everything asked while a Pro subscription runs: it must be cancelled first."""

    def __init__(self, portal_url: str | None) -> None:
        super().__init__("Pro subscription active")
        self.portal_url = portal_url

    @property
    def user_message(self) -> str:
        where = f" in the billing portal: {self.portal_url}" if self.portal_url else " with `/plan`"
        return f"Your Pro subscription is still active. Cancel it first{where}, then delete your data."


class ImportStopped(Told):
    """An import that cannot go on (a Trakt code expired or declined); `message` says so."""


# ---------------------------------------------------------------- servers and movie nights


class AIOffHere(MarqueeError):
    """A server's admins turned AI commands off (/server-settings ai_commands: False)."""

    @property
    def user_message(self) -> str:
        return "AI commands are turned off in this server by its admins."


class NeedsManageServer(MarqueeError):
    """A member without Manage Server reached /server-settings (a server's override let them)."""

    @property
    def user_message(self) -> str:
        return "You need the Manage Server permission to change this server's settings."


class NotInvited(MarqueeError):
    @property
    def user_message(self) -> str:
        return "This movie night is for the invited members."


class OnlyTheHost(MarqueeError):
    @property
    def user_message(self) -> str:
        return "Only the host can close it."


class NightClosed(MarqueeError):
    @property
    def user_message(self) -> str:
        return "This movie night is closed: the vote is over."


class VoteNotCounted(MarqueeError):
    """The vote could not be stored (the database is away): nothing changed."""

    @property
    def user_message(self) -> str:
        return "Your vote was not counted: Marquee's database is unreachable right now. Try again in a minute."


class TooFewForNight(MarqueeError):
    """Fewer than two candidates were left after exclusions and filters (the host's free request
    is given back, though the model answered)."""

    def __init__(self, found: int, filtered: bool) -> None:
        super().__init__(f"{found} movie night candidates")
        self.found, self.filtered = found, filtered

    @property
    def user_message(self) -> str:
        found = "only one film" if self.found == 1 else "no films"
        why = "everyone's watched and 👎 films and your filters" if self.filtered else "everyone's watched and 👎 films"
        return (
            f"I found {found} for this group once {why} were left out, and a vote needs at least two. "
            "Try fewer filters or other members. This one didn't count against your daily AI requests."
        )
