"""A small Prometheus registry: counters and histograms with labels, rendered as text format 0.0.4."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict

LabelValues = tuple[str, ...]
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _labels(names: tuple[str, ...], values: LabelValues, extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class Counter:
    def __init__(self, name: str, help_text: str, labels: tuple[str, ...] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, labels
        self._values: dict[LabelValues, float] = defaultdict(float)
        self._lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self._lock:
            self._values[labels] += amount

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        for key, value in sorted(self._values.items()):
            lines.append(f"{self.name}{_labels(self.label_names, key)} {value:g}")
        return lines


class Histogram:
    def __init__(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...] = (),
        buckets: tuple[float, ...] = DEFAULT_BUCKETS,
    ) -> None:
        self.name, self.help, self.label_names, self.buckets = name, help_text, labels, buckets
        self._counts: dict[LabelValues, list[int]] = {}
        self._sums: dict[LabelValues, float] = defaultdict(float)
        self._lock = threading.Lock()

    def observe(self, seconds: float, *labels: str) -> None:
        with self._lock:
            counts = self._counts.setdefault(labels, [0] * (len(self.buckets) + 1))
            counts[bisect.bisect_left(self.buckets, seconds)] += 1
            self._sums[labels] += seconds

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, counts in sorted(self._counts.items()):
            running = 0
            for bound, count in zip((*self.buckets, float("inf")), counts, strict=True):
                running += count
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                bucket_labels = _labels(self.label_names, key, 'le="' + le + '"')
                lines.append(f"{self.name}_bucket{bucket_labels} {running}")
            lines.append(f"{self.name}_sum{_labels(self.label_names, key)} {self._sums[key]:g}")
            lines.append(f"{self.name}_count{_labels(self.label_names, key)} {running}")
        return lines


class Metrics:
    """Every metric Marquee exports; one instance per process, handed to whoever records."""

    def __init__(self) -> None:
        self.commands = Counter(
            "marquee_commands_total", "App commands run, by command and outcome.", ("command", "outcome")
        )
        self.command_latency = Histogram("marquee_command_seconds", "Time to finish an app command.", ("command",))
        self.tmdb_requests = Counter(
            "marquee_tmdb_requests_total", "HTTP requests sent to TMDB, by status.", ("status",)
        )
        self.tmdb_latency = Histogram("marquee_tmdb_request_seconds", "TMDB request latency.")
        self.cache = Counter("marquee_cache_total", "Cache lookups, by result (hit, miss, error).", ("result",))

    def render(self) -> str:
        lines: list[str] = []
        for metric in (
            self.commands,
            self.command_latency,
            self.tmdb_requests,
            self.tmdb_latency,
            self.cache,
        ):
            lines.extend(metric.render())
        return "\n".join(lines) + "\n"
