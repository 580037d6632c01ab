"""Domain exceptions, shared by services and mapped to user messages in one place (bot/errors.py)."""

from __future__ import annotations


class MarqueeError(Exception):
    """Base class of the errors a user or operator is told about."""


class ConfigError(MarqueeError):
    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting} {problem}")
        self.setting = setting
        self.problem = problem


class BadInput(MarqueeError):
    """The user typed something we cannot use; `message` says what, plainly."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ServiceUnavailable(MarqueeError):
    """An outside service stayed down after retries."""

    def __init__(self, service: str, reason: str, retry_after: float | None = None) -> None:
        super().__init__(f"{service} unavailable: {reason}")
        self.service = service
        self.reason = reason
        self.retry_after = retry_after


class TMDBUnavailable(ServiceUnavailable):
    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__("TMDB", reason, retry_after)


class TMDBAuthError(ServiceUnavailable):
    """TMDB refused our token: an operator problem, not a user one."""

    def __init__(self) -> None:
        super().__init__("TMDB", "the TMDB token was refused (401)")


class DatabaseUnavailable(ServiceUnavailable):
    def __init__(self, reason: str) -> None:
        super().__init__("database", reason)


class MovieNotFound(MarqueeError):
    def __init__(self, query: str | int) -> None:
        super().__init__(f"no film matches {query!r}")
        self.query = query
