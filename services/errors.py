"""Domain exceptions, shared by services. Each carries the short message its user is told
(`user_message`); bot/errors.py is the one place that delivers it."""

from __future__ import annotations

from services.text import quote as _quote


class MarqueeError(Exception):
    """Base class of the errors a user or operator is told about."""

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


class BadInput(MarqueeError):
    """The user typed something we cannot use; `message` says what, plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    @property
    def user_message(self) -> str:
        return self.message


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
