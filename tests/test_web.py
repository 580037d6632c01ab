"""/health and /metrics over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from services.runtime import Services
from services.web import serve_web
from tests.helpers import visible_answer


@pytest.fixture
async def web_base(services: Services) -> AsyncIterator[str]:
    async with serve_web(services, "127.0.0.1", 0) as runner:
        host, port = runner.addresses[0][:2]
        yield f"http://{host}:{port}"


async def fetch(url: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, resp.content_type, await resp.text()


async def test_health_reports_both_stores(web_base: str) -> None:
    status, kind, body = await fetch(web_base + "/health")
    assert (status, kind) == (200, "application/json")
    assert body == '{"status": "ok", "database": "ok", "redis": "ok"}'


async def test_metrics_count_real_commands_and_tmdb(web_base: str, bot: Any, emulator: Any) -> None:
    for _ in range(2):
        await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
    await visible_answer(await emulator.invoke("movie", {"title": "424242"}))  # not on TMDB: an error
    status, kind, text = await fetch(web_base + "/metrics")
    assert (status, kind) == (200, "text/plain")
    assert 'marquee_commands_total{command="browse",outcome="ok"} 2.0' in text
    assert 'marquee_commands_total{command="movie",outcome="error"} 1.0' in text
    assert 'marquee_command_seconds_count{command="browse"} 2.0' in text
    assert 'marquee_tmdb_requests_total{status="404"} 1.0' in text
    assert 'marquee_cache_total{result="hit"}' in text
