"""The composition root: every shared resource is created here, once, and closed in reverse order."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

import aiohttp
import openai
from arq.connections import ArqRedis
from pydantic import SecretStr
from redis.asyncio import ConnectionPool

from services.ai.ask import AskService
from services.ai.budget import TokenBudget, UserLimits
from services.ai.foryou import ForYouService
from services.ai.llm import LLM, LLMPolicy
from services.billing.service import BillingService
from services.billing.stripe_api import StripeAPI, open_stripe
from services.cache import Cache
from services.catalog import MovieCatalog
from services.config import Settings
from services.db.migrate import apply_migrations
from services.db.pool import Database, open_database
from services.embedded import embedded_postgres, embedded_redis
from services.embeddings.client import Embedder, Space
from services.embeddings.pipeline import EmbeddingQueue, EmbeddingService
from services.embeddings.search import SimilarityService
from services.feedback import FeedbackService
from services.imports.service import ImportService
from services.metrics import Metrics
from services.movienight.service import MovieNightService
from services.mydata.service import MyDataService
from services.notices import Outbox
from services.personal.alerts import AlertService
from services.personal.my_services import MyServices
from services.personal.settings import UserSettingsService
from services.redis_circuit import RedisCircuit
from services.searches import SearchService
from services.server_settings import ServerSettingsService
from services.tmdb.client import RetryPolicy, TMDBClient
from services.tmdb.reference import Locale
from services.trakt.client import TraktAPI
from services.trakt.service import TraktService
from services.watch import WatchService
from services.watchlist import WatchlistService

log = logging.getLogger(__name__)


@dataclass
class Services:
    """What the bot, the web app and the worker are handed."""

    settings: Settings
    db: Database
    redis: ArqRedis
    cache: Cache
    http: aiohttp.ClientSession
    metrics: Metrics
    tmdb: TMDBClient
    catalog: MovieCatalog
    watch: WatchService
    watchlist: WatchlistService
    user_settings: UserSettingsService
    server_settings: ServerSettingsService
    my_services: MyServices
    alerts: AlertService
    feedback: FeedbackService
    searches: SearchService
    circuit: RedisCircuit
    llm: LLM | None  # None: AI is off (no OPENAI_API_KEY)
    budget: TokenBudget
    ai_limits: UserLimits
    ask: AskService
    foryou: ForYouService
    movienight: MovieNightService
    billing: BillingService
    imports: ImportService
    trakt: TraktService
    mydata: MyDataService
    embeddings: EmbeddingService
    similarity: SimilarityService


def redis_client(url: str) -> ArqRedis:
    # Short timeouts: a dead Redis must cost milliseconds, the cache then steps aside.
    pool = ConnectionPool.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0, max_connections=64)
    return ArqRedis(connection_pool=pool)


async def store_urls(settings: Settings, stack: AsyncExitStack) -> tuple[str, str]:
    """The DSN and Redis URL to use: the configured servers, or embedded ones started on `stack`."""
    if settings.database_url is not None:
        dsn = settings.database_url.get_secret_value()
    else:
        dsn = await stack.enter_async_context(embedded_postgres(settings.marquee_data_dir))
    if settings.redis_url is not None:
        redis_url = settings.redis_url.get_secret_value()
    else:
        redis_url = await stack.enter_async_context(embedded_redis(settings.marquee_data_dir))
    return dsn, redis_url


@asynccontextmanager
async def open_services(
    settings: Settings, *, tmdb_retry: RetryPolicy | None = None, llm_policy: LLMPolicy | None = None
) -> AsyncIterator[Services]:
    async with AsyncExitStack() as stack:
        dsn, redis_url = await store_urls(settings, stack)
        db = await stack.enter_async_context(open_database(dsn))
        if applied := await apply_migrations(db):
            log.info("applied migrations: %s", ", ".join(applied))
        redis = redis_client(redis_url)
        stack.push_async_callback(redis.aclose, close_connection_pool=True)
        http = await stack.enter_async_context(aiohttp.ClientSession())
        metrics = Metrics()
        circuit = RedisCircuit(redis)
        cache = Cache(circuit, metrics)
        stack.push_async_callback(cache.close)
        token = settings.tmdb_token.get_secret_value() if settings.tmdb_token else ""
        tmdb = TMDBClient(
            http,
            token=token,
            base_url=settings.tmdb_api_base,
            region=settings.tmdb_region,
            language=settings.tmdb_language,
            cache=cache,
            metrics=metrics,
            retry=tmdb_retry,
        )
        budget = TokenBudget(circuit, settings.ai_daily_token_budget, metrics)
        policy = llm_policy or LLMPolicy()
        client = open_openai(settings, stack, policy)
        llm = LLM(client, settings.openai_chat_model, metrics, budget, policy) if client else None
        queue = EmbeddingQueue(circuit)
        # Films are queued for embedding as they enter the catalogue, when there is an AI to embed them.
        catalog = MovieCatalog(tmdb, db, on_change=queue.add if client else None)
        embeddings = EmbeddingService(
            Embedder(client, metrics) if client else None,
            db=db,
            catalog=catalog,
            queue=queue,
            circuit=circuit,
            configured=Space(settings.openai_embedding_model, settings.embedding_dimensions),
        )
        billing = BillingService(open_billing(settings, http), db, redis, public_url=public_url(settings))
        limits = UserLimits(
            circuit, settings.ai_daily_free_quota, metrics, has_pro=billing.has_pro, upsell=billing.enabled
        )
        feedback = FeedbackService(db, catalog)
        my_services = MyServices(catalog)
        imports = ImportService(db, catalog, redis, http)
        trakt = TraktService(
            open_trakt(settings, http), secret(settings.marquee_secret_key), db=db, redis=redis, imports=imports
        )
        similarity = SimilarityService(embeddings, db=db, catalog=catalog, cache=cache, limits=limits, metrics=metrics)
        user_settings = UserSettingsService(db, tmdb, Locale(settings.tmdb_region, settings.tmdb_language))
        foryou = ForYouService(llm, catalog=catalog, db=db, limits=limits, cache=cache, rerank=similarity.rerank)
        yield Services(
            settings=settings,
            db=db,
            redis=redis,
            cache=cache,
            http=http,
            metrics=metrics,
            tmdb=tmdb,
            catalog=catalog,
            watch=WatchService(db, catalog),
            watchlist=WatchlistService(db, catalog, my_services),
            user_settings=user_settings,
            server_settings=ServerSettingsService(db, user_settings),
            feedback=feedback,
            searches=SearchService(db, catalog),
            circuit=circuit,
            llm=llm,
            budget=budget,
            ai_limits=limits,
            ask=AskService(
                llm,
                cache=cache,
                catalog=catalog,
                db=db,
                limits=limits,
                metrics=metrics,
                feedback=feedback,
            ),
            foryou=foryou,
            movienight=MovieNightService(
                llm,
                foryou=foryou,
                catalog=catalog,
                db=db,
                limits=limits,
                user_settings=user_settings,
                my_services=my_services,
            ),
            my_services=my_services,
            alerts=AlertService(db, catalog, Outbox(redis), settings.tmdb_region),
            billing=billing,
            imports=imports,
            trakt=trakt,
            mydata=MyDataService(db, cache, billing, trakt),
            embeddings=embeddings,
            similarity=similarity,
        )


def open_billing(settings: Settings, http: aiohttp.ClientSession) -> StripeAPI | None:
    """The Stripe API when all three billing settings are set; else None (the Pro gate is open)."""
    if not settings.billing_enabled:
        log.info(
            "billing is off (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_PRO_PRICE_ID): Pro commands are open"
        )
        return None
    assert settings.stripe_secret_key is not None and settings.stripe_pro_price_id is not None
    # Over the shared aiohttp session, which the stack closes at shutdown.
    client = open_stripe(settings.stripe_secret_key.get_secret_value(), settings.stripe_api_base, http)
    return StripeAPI(client, settings.stripe_pro_price_id)


def secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def open_trakt(settings: Settings, http: aiohttp.ClientSession) -> TraktAPI | None:
    """Trakt's API when TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET and MARQUEE_SECRET_KEY are set."""
    if not settings.trakt_enabled:
        if settings.trakt_client_id:
            log.info("Trakt import is off: TRAKT_CLIENT_SECRET and MARQUEE_SECRET_KEY are needed too")
        return None
    assert settings.trakt_client_id is not None
    return TraktAPI(http, settings.trakt_api_base, settings.trakt_client_id, secret(settings.trakt_client_secret) or "")


def public_url(settings: Settings) -> str:
    """Where Checkout sends people back to: PUBLIC_URL, else this machine's web server."""
    if settings.public_url:
        return settings.public_url
    if settings.billing_enabled:
        log.warning(
            "PUBLIC_URL is not set: Checkout will return people to http://%s:%d", settings.web_host, settings.web_port
        )
    return f"http://{settings.web_host}:{settings.web_port}"


def open_openai(settings: Settings, stack: AsyncExitStack, policy: LLMPolicy) -> openai.AsyncOpenAI | None:
    """The one OpenAI client (any OpenAI-compatible server through OPENAI_BASE_URL), for chat and
    embeddings; None when OPENAI_API_KEY is not set (AI is off)."""
    if settings.openai_api_key is None or not settings.openai_api_key.get_secret_value():
        log.info("OPENAI_API_KEY is not set: AI commands are off")
        return None
    # Retries are ours (bounded by a deadline, or arq's for the worker); the client's would
    # wait out a Retry-After of two minutes while a user waits.
    client = openai.AsyncOpenAI(
        api_key=settings.openai_api_key.get_secret_value(),
        base_url=settings.openai_base_url,
        timeout=policy.deadline,
        max_retries=0,
    )
    stack.push_async_callback(client.close)
    return client
