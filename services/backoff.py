"""What the outside services say about waiting, shared by their clients."""

from __future__ import annotations


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
