"""What every benchmark shares: percentiles, how figures are printed, waiting for a process."""

from __future__ import annotations

import asyncio
import time

import aiohttp

Rows = list[tuple[str, str]]


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


def p99(values: list[float]) -> float:
    return percentile(values, 99)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


async def wait_health(port: int, deadline: float) -> None:
    """Until GET /health on 127.0.0.1:port answers 200 (TimeoutError at `deadline`, monotonic)."""
    async with aiohttp.ClientSession() as session:
        while time.monotonic() < deadline:
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
    raise TimeoutError("marquee never became healthy")
