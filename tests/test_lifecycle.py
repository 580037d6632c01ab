"""Process lifecycle as an operator sees it: SIGTERM drains commands in flight, embedded servers
shared by several processes (and left by a crash), one-line start-up failures, doctor, refresh."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import psutil

from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import is_ephemeral, visible_answer
from tests.process import MarqueeProcess, base_env, free_port, stores_env
from tests.test_e2e_process import assert_clean
from worker.jobs import warm_lists


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.text()


async def until_healthy(port: int, seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession() as session:
        while True:
            try:
                async with session.get(f"http://127.0.0.1:{port}/health") as resp:
                    if resp.status == 200:
                        body: dict[str, Any] = await resp.json()
                        return body
            except aiohttp.ClientError:
                pass
            assert time.monotonic() < deadline, "never healthy"
            await asyncio.sleep(0.05)


@asynccontextmanager
async def bot_process(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str, metrics_port: int = 0
) -> AsyncIterator[MarqueeProcess]:
    """`marquee bot` connected to the emulator with its commands synced; killed if still running,
    and its output checked for leaks, when the test is done with it."""
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        METRICS_PORT=str(metrics_port),
        **emulator.env(),
    )
    bot = await MarqueeProcess(["bot"], env, tmp_path).start()
    try:
        await emulator.wait_ready(60)
        await emulator.wait_commands(30)
        yield bot
    finally:
        bot.kill()
    assert_clean(bot.output())


async def test_sigterm_lets_commands_in_flight_finish(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str, services: Services
) -> None:
    async with bot_process(tmp_path, emulator, tmdb, database_url, redis_url) as bot:
        tmdb.latency = 1.5  # each TMDB call of the marks below is slow: they are in flight at SIGTERM
        marks = [await emulator.invoke("watched", {"title": str(1010 + n)}) for n in range(3)]
        for rec in marks:
            assert await rec.wait_callback(5) == 5
        bot.proc.send_signal(signal.SIGTERM)  # type: ignore[union-attr]
        stopped_at = time.monotonic()
        while "interactions in flight" not in bot.output():  # the drain has begun
            assert time.monotonic() - stopped_at < 5, bot.output()
            await asyncio.sleep(0.02)
        # New interactions are refused plainly while those in flight finish.
        late = await visible_answer(await emulator.invoke("help"), 10)
        assert is_ephemeral(late) and late["content"] == "Marquee is restarting. Try again in a few seconds."
        for rec in marks:
            assert "Marked" in (await visible_answer(rec, 15))["content"]
        assert await bot.wait(30) == 0
        assert time.monotonic() - stopped_at < 12
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM watch_history") == 3  # no acknowledged action lost


async def test_the_bot_process_serves_its_own_metrics(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str
) -> None:
    metrics_port = free_port()
    async with bot_process(tmp_path, emulator, tmdb, database_url, redis_url, metrics_port) as bot:
        await visible_answer(await emulator.invoke("browse", {"list": "popular"}), 10)
        status, text = await get(f"http://127.0.0.1:{metrics_port}/metrics")
        assert status == 200
        assert 'marquee_commands_total{command="browse",outcome="ok"} 1.0' in text
        assert 'marquee_tmdb_requests_total{status="200"}' in text
        assert (await get(f"http://127.0.0.1:{metrics_port}/health/live"))[0] == 200
        assert await bot.stop() == 0


def web_env(tmdb: FakeTMDB, data_dir: Path, port: int) -> dict[str, str]:
    return base_env(
        TMDB_TOKEN=tmdb.token, TMDB_API_BASE=tmdb.base_url, MARQUEE_DATA_DIR=str(data_dir), WEB_PORT=str(port)
    )


def redis_pid(data_dir: Path) -> int:
    return int(json.loads((data_dir / "redis.json").read_text())["pid"])


async def test_the_last_process_stops_the_shared_embedded_servers(tmp_path: Path, tmdb: FakeTMDB) -> None:
    data_dir, first_port, second_port = tmp_path / "data", free_port(), free_port()
    first = await MarqueeProcess(["web"], web_env(tmdb, data_dir, first_port), tmp_path).start()
    second = None
    try:
        await until_healthy(first_port)
        second = await MarqueeProcess(["web"], web_env(tmdb, data_dir, second_port), tmp_path).start()
        await until_healthy(second_port)
        server = redis_pid(data_dir)
        assert await first.stop() == 0  # the process that started both servers goes first
        assert await until_healthy(second_port, 5) == {"status": "ok", "database": "ok", "redis": "ok"}
        assert psutil.pid_exists(server)
        assert await second.stop() == 0
    finally:
        first.kill()
        if second is not None:
            second.kill()
    assert not psutil.pid_exists(server) and not (data_dir / "redis.json").exists()
    assert_clean(first.output() + second.output())


async def test_a_crashed_process_leaves_redis_to_be_adopted(tmp_path: Path, tmdb: FakeTMDB) -> None:
    data_dir, port = tmp_path / "data", free_port()
    crashed = await MarqueeProcess(["web"], web_env(tmdb, data_dir, port), tmp_path).start()
    try:
        await until_healthy(port)
        server = redis_pid(data_dir)
        crashed.proc.kill()  # type: ignore[union-attr]  # kill -9: no cleanup at all
        await crashed.wait()
    finally:
        crashed.kill()
    assert psutil.pid_exists(server)
    restarted = await MarqueeProcess(["web"], web_env(tmdb, data_dir, port), tmp_path).start()
    try:
        assert (await until_healthy(port))["redis"] == "ok"
        assert redis_pid(data_dir) == server  # adopted, not a second server beside the orphan
        assert await restarted.stop() == 0
    finally:
        restarted.kill()
    assert "adopting the server" in restarted.output()
    assert not psutil.pid_exists(server) and not (data_dir / "redis.json").exists()


async def test_start_up_failures_are_one_line(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str
) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("")
    proc = await MarqueeProcess(["web"], web_env(tmdb, a_file, free_port()), tmp_path).start()
    assert await proc.wait() == 1
    assert proc.output().splitlines()[-1] == f"marquee: MARQUEE_DATA_DIR {a_file} is a file, not a folder"

    proc = await MarqueeProcess(["web"], web_env(tmdb, tmp_path / "d", 99999), tmp_path).start()
    assert await proc.wait() == 2
    assert proc.output().splitlines()[-1].startswith("marquee: WEB_PORT is invalid: ")

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = web_env(tmdb, tmp_path / "d", port) | {"DATABASE_URL": database_url, "REDIS_URL": redis_url}
        proc = await MarqueeProcess(["web"], env, tmp_path).start()
        assert await proc.wait() == 1
    assert proc.output().splitlines()[-1] == (
        f"marquee: WEB_PORT {port} on 127.0.0.1 is already in use (another Marquee may be running)"
    )
    assert "Traceback" not in proc.output()


async def test_doctor_creates_nothing(tmp_path: Path, tmdb: FakeTMDB) -> None:
    data_dir = tmp_path / "never-made"
    proc = await MarqueeProcess(["doctor"], web_env(tmdb, data_dir, free_port()), tmp_path).start()
    await proc.wait()
    assert "embedded, not created yet" in proc.output()
    assert "embedded, not running" in proc.output()
    assert not data_dir.exists()


async def test_the_list_refresh_reloads_while_the_cache_is_warm(services: Services, tmdb: FakeTMDB) -> None:
    await services.catalog.browse("popular")
    assert len(tmdb.calls_to("/movie/popular")) == 1
    for _ in range(2):
        assert await warm_lists({"services": services}) == 5
    assert len(tmdb.calls_to("/movie/popular")) == 3  # each run reloads, whatever is cached
    await services.catalog.browse("popular")
    assert len(tmdb.calls_to("/movie/popular")) == 3  # and what it loaded is what users get
