"""Reading what a Discord user would see in the emulator's records."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

T = TypeVar("T")

EPHEMERAL = 1 << 6
COMMAND_NAMES = {
    "settings",
    "watchlist",
    "browse",
    "movie",
    "trailer",
    "search",
    "ask",
    "foryou",
    "history",
    "similar",
    "semantic",
    "watched",
    "upgrade",
    "plan",
    "help",
    "import",
    "mydata",
    "movienight",
    "server-settings",
}


def sample(metrics: Any, name: str, **labels: str) -> float:
    """A metric's current value as Prometheus would scrape it (0 when never recorded)."""
    return float(metrics.registry.get_sample_value(name, labels) or 0)


def is_ephemeral(message: dict[str, Any]) -> bool:
    return bool(message["flags"] & EPHEMERAL)


def components(message: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for row in message.get("components", []):
        out.extend(row.get("components", []))
    return out


def component(message: dict[str, Any], custom_id_prefix: str) -> dict[str, Any]:
    for item in components(message):
        if str(item.get("custom_id", "")).startswith(custom_id_prefix):
            return item
    raise LookupError(f"no component starting {custom_id_prefix!r} in {components(message)}")


def link_buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in components(message) if c.get("style") == 5]


def embed(message: dict[str, Any]) -> dict[str, Any]:
    assert message.get("embeds"), f"no embed in {message}"
    return message["embeds"][0]


def field(message: dict[str, Any], name: str) -> str:
    for item in embed(message).get("fields", []):
        if item["name"].startswith(name):
            return str(item["value"])
    raise LookupError(f"no field {name!r}")


async def visible_answer(rec: Any, seconds: float = 10.0) -> dict[str, Any]:
    """The message the user ends up seeing for an interaction (after any defer)."""
    await rec.wait_for(lambda: any(m.get("content") or m.get("embeds") for m in rec.messages), seconds, "an answer")
    return next(m for m in rec.messages if m.get("content") or m.get("embeds"))


def label(film: dict[str, Any]) -> str:
    return f"{film['title']} ({film['release_date'][:4]})"


async def answer(
    emulator: Any, name: str, options: dict[str, Any] | None = None, *, seconds: float = 10.0, **kw: Any
) -> dict[str, Any]:
    """Invoke a command; the message its user ends up seeing. Whatever happened, no "thinking…"
    placeholder may be left hanging."""
    rec = await emulator.invoke(name, options or {}, **kw)
    await rec.wait_callback()
    msg = await visible_answer(rec, seconds)
    assert all(m.get("content") or m.get("embeds") for m in rec.messages), rec.describe()
    return msg


async def eventually(probe: Callable[[], Awaitable[T | None]], seconds: float = 10.0) -> T:
    """What `probe` returns once it returns something other than None (asked every 20 ms)."""
    for _ in range(int(seconds / 0.02)):
        if (value := await probe()) is not None:
            return value
        await asyncio.sleep(0.02)
    raise TimeoutError(f"nothing after {seconds}s")


async def until(condition: Callable[[], bool], seconds: float = 10.0, what: str = "the condition") -> None:
    """Wait for state outside any one interaction record (DMs, the database, another process)."""

    async def probe() -> bool | None:
        return True if condition() else None

    try:
        await eventually(probe, seconds)
    except TimeoutError:
        raise TimeoutError(f"timed out waiting for {what}") from None
