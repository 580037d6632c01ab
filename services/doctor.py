"""`marquee doctor`: every setting and dependency, one plain line each."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

import aiohttp
import asyncpg
from redis.exceptions import RedisError

from services.config import MAKE_SECRET_KEY, Settings
from services.db import embeddings as embeddings_repo
from services.db.migrate import load_migrations
from services.db.pool import open_database
from services.db.state import get_state
from services.embedded import embedded_postgres, running_redis_socket
from services.embeddings.client import Space
from services.embeddings.pipeline import parse_space
from services.errors import MarqueeError
from services.runtime import redis_client

TIMEOUT = aiohttp.ClientTimeout(total=10)
DISCORD_API = "https://discord.com/api/v10"


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok, off, missing, failing
    detail: str
    required: bool = True

    @property
    def fatal(self) -> bool:
        return self.required and self.status in ("missing", "failing")

    def line(self) -> str:
        return f"{self.status:<8} {self.name}: {self.detail}"


class Unusable(Exception):
    """The service answered, but what it said means the setting will not work."""


async def _http_check(
    session: aiohttp.ClientSession,
    name: str,
    url: str,
    headers: dict[str, str],
    describe: Callable[[dict], str],
    *,
    required: bool = True,
) -> Check:
    try:
        async with session.get(url, headers=headers, timeout=TIMEOUT) as resp:
            if resp.status in (401, 403):
                return Check(name, "failing", f"the key or token was refused (HTTP {resp.status})", required)
            if resp.status != 200:
                return Check(name, "failing", f"HTTP {resp.status} from {url.split('?')[0]}", required)
            try:
                return Check(name, "ok", describe(await resp.json()), required)
            except Unusable as exc:
                return Check(name, "failing", str(exc), required)
    except (TimeoutError, aiohttp.ClientError) as exc:
        reason = "timed out" if isinstance(exc, asyncio.TimeoutError) else str(exc) or type(exc).__name__
        return Check(name, "failing", f"cannot reach {url.split('?')[0]}: {reason}", required)


async def _discord(settings: Settings, session: aiohttp.ClientSession) -> Check:
    if settings.discord_token is None:
        return Check("discord", "missing", "DISCORD_TOKEN is not set")
    base = (settings.discord_api_base or DISCORD_API).rstrip("/")
    return await _http_check(
        session,
        "discord",
        f"{base}/users/@me",
        {"Authorization": f"Bot {settings.discord_token.get_secret_value()}"},
        lambda me: f"token works for bot {me.get('username')} ({me.get('id')})",
    )


async def _tmdb(settings: Settings, session: aiohttp.ClientSession) -> Check:
    if settings.tmdb_token is None:
        return Check("tmdb", "missing", "TMDB_TOKEN is not set")
    return await _http_check(
        session,
        "tmdb",
        f"{settings.tmdb_api_base.rstrip('/')}/configuration",
        {"Authorization": f"Bearer {settings.tmdb_token.get_secret_value()}"},
        lambda _: f"token works ({settings.tmdb_region}, {settings.tmdb_language})",
    )


async def _openai(settings: Settings, session: aiohttp.ClientSession) -> Check:
    if settings.openai_api_key is None:
        return Check("openai", "off", "OPENAI_API_KEY is not set: AI features are off", required=False)
    base = (settings.openai_base_url or "https://api.openai.com/v1").rstrip("/")
    return await _http_check(
        session,
        "openai",
        f"{base}/models",
        {"Authorization": f"Bearer {settings.openai_api_key.get_secret_value()}"},
        lambda listing: _models(listing, settings),
        required=False,
    )


def _models(listing: dict, settings: Settings) -> str:
    """What the server offers, checked against OPENAI_CHAT_MODEL (when it lists its models)."""
    offered = (
        {m.get("id") for m in listing.get("data", []) if isinstance(m, dict)} if isinstance(listing, dict) else set()
    )
    for name, model in (
        ("OPENAI_CHAT_MODEL", settings.openai_chat_model),
        ("OPENAI_EMBEDDING_MODEL", settings.openai_embedding_model),
    ):
        if offered and model not in offered:
            raise Unusable(f"{name} {model} is not offered by this server ({len(offered)} models are)")
    embeddings = f"embeddings {settings.openai_embedding_model} at {settings.embedding_dimensions} dimensions"
    return f"key works (chat {settings.openai_chat_model}, {embeddings})"


def _price(price: dict, settings: Settings) -> str:
    if not price.get("active"):
        raise Unusable(f"STRIPE_PRO_PRICE_ID {price.get('id')} is not active")
    where = settings.public_url or "not set: Checkout returns people to WEB_HOST:WEB_PORT; set PUBLIC_URL"
    return f"key works; Pro price {price.get('id')} is active; PUBLIC_URL {where}"


def _ai_limits(settings: Settings) -> Check:
    if not settings.ai_enabled:
        return Check("ai limits", "off", "AI is off", required=False)
    quota = settings.ai_daily_free_quota
    per_user = (
        f"AI_DAILY_FREE_QUOTA {quota} /ask + /foryou per free user a UTC day"
        if quota
        else "AI_DAILY_FREE_QUOTA 0: no per-user cap"
    )
    budget = settings.ai_daily_token_budget
    total = (
        f"AI_DAILY_TOKEN_BUDGET {budget:,} tokens a UTC day" if budget else "AI_DAILY_TOKEN_BUDGET unset: no daily cap"
    )
    return Check("ai limits", "ok", f"{per_user}; {total}", required=False)


async def _stripe(settings: Settings, session: aiohttp.ClientSession) -> Check:
    names = ("STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "STRIPE_PRO_PRICE_ID")
    unset = [n for n in names if getattr(settings, n.lower()) is None]
    if len(unset) == len(names):
        return Check("stripe", "off", "billing is off: Pro commands are open to everyone", required=False)
    if unset:
        return Check("stripe", "missing", f"billing needs all three settings; {', '.join(unset)} not set")
    assert settings.stripe_secret_key is not None
    base = (settings.stripe_api_base or "https://api.stripe.com").rstrip("/")
    return await _http_check(
        session,
        "stripe",
        f"{base}/v1/prices/{settings.stripe_pro_price_id}",
        {"Authorization": f"Bearer {settings.stripe_secret_key.get_secret_value()}"},
        lambda price: _price(price, settings),
    )


async def _trakt(settings: Settings, session: aiohttp.ClientSession) -> Check:
    has_id, has_secret = bool(settings.trakt_client_id), settings.trakt_client_secret is not None
    if not has_id and not has_secret:
        return Check("trakt", "off", "/import trakt is off (set TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET)", False)
    if not (has_id and has_secret):
        unset = "TRAKT_CLIENT_ID" if not has_id else "TRAKT_CLIENT_SECRET"
        return Check("trakt", "missing", f"/import trakt needs both Trakt settings; {unset} is not set", False)
    if settings.marquee_secret_key is None:
        why = "Trakt's tokens are stored only encrypted, so /import trakt is off without it"
        return Check("trakt", "missing", f"MARQUEE_SECRET_KEY is not set: {why}; {MAKE_SECRET_KEY}", False)
    base = settings.trakt_api_base.rstrip("/")
    headers = {"trakt-api-version": "2", "trakt-api-key": settings.trakt_client_id or ""}
    return await _http_check(
        session,
        "trakt",
        f"{base}/movies/trending?limit=1",
        headers,
        lambda _: f"the client id works at {base}; /import trakt is on",
        required=False,
    )


async def _stores(settings: Settings) -> list[Check]:
    """The database (and the embeddings in it) and Redis; embedded ones are joined when they
    exist, never created."""
    data_dir = settings.marquee_data_dir.expanduser()
    space = Space(settings.openai_embedding_model, settings.embedding_dimensions) if settings.ai_enabled else None
    async with AsyncExitStack() as stack:
        if settings.database_url is not None:
            database = await _database(settings.database_url.get_secret_value(), "DATABASE_URL", space)
        elif not (data_dir / "postgres").is_dir():
            database = [
                Check("database", "ok", f"embedded, not created yet (the first `marquee run` makes it in {data_dir})")
            ]
        else:
            try:
                dsn = await stack.enter_async_context(embedded_postgres(data_dir))
            except Exception as exc:  # the embedded server failing to start is exactly what doctor reports
                return [Check("database", "failing", f"embedded PostgreSQL did not start: {exc}")]
            database = await _database(dsn, "embedded", space)
        if settings.redis_url is not None:
            redis = await _redis(settings.redis_url.get_secret_value(), "REDIS_URL")
        elif socket_path := running_redis_socket(data_dir):
            redis = await _redis(f"unix://{socket_path}", "embedded")
        else:
            redis = Check("redis", "ok", "embedded, not running (Marquee starts it)")
    if space is None and database[0].status == "ok":
        database.append(Check("embeddings", "off", "AI is off: /similar shows TMDB's recommendations", required=False))
    return [*database, redis]


async def _database(dsn: str, where: str, space: Space | None) -> list[Check]:
    """The database, and (with AI on: `space` is the configured one) what is embedded in it."""
    try:
        async with open_database(dsn, min_size=1, max_size=1) as db, db.connection() as conn:
            version = await conn.fetchval("SHOW server_version")
            has_vector = await conn.fetchval("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            done = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            applied = (
                {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")} if done else set()
            )
            pending = [m.version for m in load_migrations() if m.version not in applied]
            embedded = [await _embeddings(conn, space)] if space and has_vector and not pending else []
    except MarqueeError as exc:
        return [Check("database", "failing", f"{where}: {exc}")]
    if not has_vector:
        return [Check("database", "failing", f"{where}: PostgreSQL {version} lacks the pgvector extension")]
    state = f"{len(pending)} migrations pending (run `marquee migrate`)" if pending else "migrations up to date"
    return [Check("database", "ok", f"{where}: PostgreSQL {version} with pgvector, {state}"), *embedded]


async def _embeddings(conn: asyncpg.Connection, configured: Space) -> Check:
    """How much of the catalogue search by meaning covers, and in which space."""
    films = int(await conn.fetchval("SELECT count(*) FROM movies WHERE NOT adult"))
    active = parse_space(await get_state(conn, embeddings_repo.ACTIVE_SPACE_KEY)) or configured
    have = await embeddings_repo.count(conn, active)
    line = f"searches use {active}: {have:,} of {films:,} films embedded"
    if active != configured:
        line += f"; re-embedding into {configured}: {await embeddings_repo.count(conn, configured):,} so far"
    if films and not have:
        line += " (run `marquee catalog sync`, and a worker, to fill it)"
    return Check("embeddings", "ok", line, required=False)


async def _redis(url: str, where: str) -> Check:
    client = redis_client(url)
    try:
        info = await client.info("server")
        return Check("redis", "ok", f"{where}: Redis {info.get('redis_version')}")
    except (RedisError, OSError) as exc:
        return Check("redis", "failing", f"{where}: {type(exc).__name__}")
    finally:
        await client.aclose(close_connection_pool=True)


async def run_checks(settings: Settings) -> list[Check]:
    async with aiohttp.ClientSession() as session:
        probes: list[Awaitable[Check]] = [
            _discord(settings, session),
            _tmdb(settings, session),
            _openai(settings, session),
            _stripe(settings, session),
            _trakt(settings, session),
        ]
        checks = list(await asyncio.gather(*probes))
    return [*checks[:3], _ai_limits(settings), *checks[3:], *await _stores(settings)]
