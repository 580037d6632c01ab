"""The base of the fakes of outside services: an aiohttp app on 127.0.0.1 at a free port."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from typing import Protocol, Self, TypeVar

from aiohttp import web


class Counted(Protocol):
    remaining: int
    after: int


C = TypeVar("C", bound=Counted)


@dataclass
class Fault:
    """What the next `remaining` requests get instead of an answer."""

    status: int
    remaining: int
    retry_after: str | None = None
    body: bytes | None = None  # sent as-is (truncated or empty JSON in a 200, say)
    after: int = 0  # requests let through before this one applies


def take(queue: list[C]) -> C | None:
    """The knob at the head of `queue`, used once more (and dropped when used up)."""
    if not queue:
        return None
    head = queue[0]
    if head.after > 0:
        head.after -= 1
        return None
    head.remaining -= 1
    if head.remaining <= 0:
        queue.pop(0)
    return head


class LoopbackServer:
    """Subclasses add their routes in `routes()`; `async with` starts and stops the server."""

    port: int = 0
    _runner: web.AppRunner | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> Self:
        app = web.Application(client_max_size=4 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
