"""What every benchmark shares: percentiles and how figures are printed."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from services.config import Settings
from services.embedded import embedded_postgres, embedded_redis
from tests.conftest import make_settings
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB

Rows = list[tuple[str, str]]


async def embedded_settings(stack: AsyncExitStack, data_dir: Path, tmdb: FakeTMDB) -> Settings:
    """Embedded PostgreSQL and Redis in `data_dir` (stopped with `stack`), and the settings that
    point Marquee at them and at the fake TMDB."""
    dsn = await stack.enter_async_context(embedded_postgres(data_dir))
    redis_url = await stack.enter_async_context(embedded_redis(data_dir))
    return make_settings(
        tmdb_token=tmdb.token,
        tmdb_api_base=tmdb.base_url,
        database_url=dsn,
        redis_url=redis_url,
        marquee_data_dir=data_dir,
    )


def bot_settings(tmdb: FakeTMDB, llm: FakeOpenAI, data_dir: Path) -> Settings:
    """The bot against the fake TMDB and OpenAI and the emulator, on embedded stores in
    `data_dir`, with no daily AI quota (a benchmark asks as much as it needs)."""
    return make_settings(
        tmdb_token=tmdb.token,
        tmdb_api_base=tmdb.base_url,
        openai_api_key=llm.api_key,
        openai_base_url=llm.base_url,
        marquee_data_dir=data_dir,
        discord_token="emulator-token",
        ai_daily_free_quota=0,
    )


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
