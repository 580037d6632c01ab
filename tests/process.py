"""Running `marquee` as a real subprocess, configured only through its environment."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

MARQUEE = str(Path(sys.executable).parent / "marquee")
LEAK_MARKERS = ("Traceback", "unclosed", "never retrieved", "was destroyed but it is pending", "Exception ignored")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def base_env(**values: str) -> dict[str, str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", "/root"),
        "PYTHONUNBUFFERED": "1",
        # Show leaked sockets and connections (hidden by default) so the tests can see them.
        "PYTHONWARNINGS": "default::ResourceWarning",
    }
    env.update(values)
    return env


def stores_env(tmdb: Any, database_url: str, redis_url: str, **values: str) -> dict[str, str]:
    """base_env for a `marquee` process on the given PostgreSQL and Redis and the fake TMDB."""
    return base_env(
        TMDB_TOKEN=tmdb.token, TMDB_API_BASE=tmdb.base_url, DATABASE_URL=database_url, REDIS_URL=redis_url, **values
    )


class MarqueeProcess:
    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        self.args, self.env, self.cwd = args, env, cwd
        self.log = cwd / f"marquee-{args[0]}-{os.getpid()}-{id(self)}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> MarqueeProcess:
        with self.log.open("wb") as out:
            self.proc = await asyncio.create_subprocess_exec(
                MARQUEE,
                *self.args,
                env=self.env,
                cwd=self.cwd,
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
            )
        return self

    async def stop(self, sig: int = signal.SIGTERM, seconds: float = 30) -> int:
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(sig)
        return await asyncio.wait_for(self.proc.wait(), seconds)

    async def wait(self, seconds: float = 60) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), seconds)

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()


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
