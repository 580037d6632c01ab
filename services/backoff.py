"""What the outside services say about waiting, shared by their clients."""

from __future__ import annotations

import random
import time
from typing import Protocol

import openai

# What the openai client raises for a failure that may pass if tried again.
OPENAI_RETRYABLE = (openai.RateLimitError, openai.InternalServerError, openai.APIConnectionError, openai.ConflictError)


def retry_after_seconds(value: str | None, *, scale: float = 1.0) -> float | None:
    """A Retry-After header's delay in seconds (`scale` 0.001 for `retry-after-ms`); None when it
    is absent or not a number (the HTTP-date form is not sent by the services we call)."""
    if value is None:
        return None
    try:
        return max(0.0, float(value) * scale)
    except ValueError:
        return None


def retry_after_of(exc: Exception) -> float | None:
    """The wait an openai client error's response asked for (`retry-after-ms`, else
    `retry-after`), or None."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    milliseconds = retry_after_seconds(headers.get("retry-after-ms"), scale=0.001)
    return milliseconds if milliseconds is not None else retry_after_seconds(headers.get("retry-after"))


class RetryPolicy(Protocol):
    @property
    def attempts(self) -> int: ...
    @property
    def base_delay(self) -> float: ...


def next_wait(exc: Exception, attempt: int, policy: RetryPolicy, deadline: float) -> float | None:
    """Seconds to wait before the next try after `exc` failed attempt number `attempt` (from 0):
    the wait its response asked for, else exponential backoff with jitter; None when no attempt
    is left or the wait would end past `deadline` (a `time.monotonic()` instant)."""
    wait = retry_after_of(exc)
    if wait is None:
        wait = policy.base_delay * 2**attempt * (0.5 + random.random())
    if attempt + 1 >= policy.attempts or time.monotonic() + wait >= deadline:
        return None
    return wait
