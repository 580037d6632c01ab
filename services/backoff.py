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
