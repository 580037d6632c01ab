"""What every benchmark shares: percentiles and how figures are printed."""

from __future__ import annotations

Rows = list[tuple[str, str]]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def p99(values: list[float]) -> float:
    return percentile(values, 99)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"
