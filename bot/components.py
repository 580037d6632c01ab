"""The base for buttons and selects. All are DynamicItems: their state lives in the custom id
(namespaced `marquee:<feature>:...`), so they keep working across restarts, processes and
shards, and no view with a timeout outlives the bot. Each feature keeps its own items beside
its cog; what they share is here."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord

from bot.errors import report_error
from services.errors import NotYours, OutOfDate
from services.runtime import Services

P = ParamSpec("P")
SelfT = TypeVar("SelfT")


def services_of(interaction: discord.Interaction) -> Services:
    return interaction.client.services  # type: ignore[attr-defined]  # always a MarqueeBot


class MarqueeItem:
    """Mixed into every DynamicItem: one interaction check (the owner, when the item has one;
    admission while the bot runs) whose failures, expected or not, take the one error path."""

    owner_id: int | None = None

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        interaction.extras["started"] = time.perf_counter()
        try:
            if self.owner_id is not None and interaction.user.id != self.owner_id:
                raise NotYours()
            check_select_values(getattr(self, "item", None))
            interaction.client.inflight.admit(interaction)  # type: ignore[attr-defined]
        except Exception as exc:
            await report_error(interaction, exc)
            return False
        return True


def check_select_values(item: object) -> None:
    """A select's values must be options the bot put on the message: Discord does not check
    component data, so a modified client can send anything (OutOfDate, like an old menu)."""
    if not isinstance(item, discord.ui.Select):
        return
    offered = {option.value for option in item.options}  # from the message as Discord stored it
    values = item.values
    if not item.min_values <= len(values) <= item.max_values or any(value not in offered for value in values):
        raise OutOfDate()


def reported(
    callback: Callable[Concatenate[SelfT, discord.Interaction, P], Coroutine[Any, Any, None]],
) -> Callable[Concatenate[SelfT, discord.Interaction, P], Coroutine[Any, Any, None]]:
    """Route a component callback's failures through the one error path (discord.py only logs
    them), and count the run like a command's."""
    from bot.tree import record_interaction

    @functools.wraps(callback)
    async def wrapper(self: SelfT, interaction: discord.Interaction, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await callback(self, interaction, *args, **kwargs)
        except Exception as exc:
            record_interaction(interaction.client, interaction, "error")  # type: ignore[arg-type]
            await report_error(interaction, exc)
        else:
            record_interaction(interaction.client, interaction, "ok")  # type: ignore[arg-type]

    return wrapper


def page_button(custom_id: str, label: str, disabled: bool) -> discord.ui.Button[Any]:
    """The look of every Previous / Next button."""
    return discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=custom_id, disabled=disabled)


def page_buttons(
    make: Callable[[int, str, bool], discord.ui.Item[Any]], page: int, total_pages: int
) -> list[discord.ui.Item[Any]]:
    """◀ Previous and Next ▶ for a paged message; `make(page, label, disabled)` builds each."""
    return [
        make(max(1, page - 1), "◀ Previous", page <= 1),
        make(page + 1, "Next ▶", page >= total_pages),
    ]
