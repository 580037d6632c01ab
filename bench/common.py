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


class PrintedRows(list[tuple[str, str]]):
    """Rows printed as Markdown table rows as they come: a long run shows its figures as it goes,
    and a failure late in it loses none of them."""

    def append(self, row: tuple[str, str]) -> None:
        super().append(row)
        print(f"| {row[0]} | {row[1]} |", flush=True)
