"""The `only_my_services:` option's shared pieces: its description, and the note a narrowed
list carries in its footer (/browse, /ask, /foryou, /semantic)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import discord

from bot.embeds import FOOTER_MAX, clamp
from bot.rerun import RerunButton
from services.personal.my_services import OnMyServices

T = TypeVar("T")

DESCRIBE = "Only films that stream on your services (choose them in /settings)"


def shown(items: Sequence[T], narrowed: OnMyServices[T] | None) -> Sequence[T]:
    """What the list shows: the narrowed films, else them all."""
    return items if narrowed is None else narrowed.films


def show_all(narrowed: OnMyServices[Any] | None, search_id: int | None) -> list[discord.ui.Item[Any]]:
    """ "Show all" under a list narrowed to fewer than 5, as a re-run of its search (cached)."""
    if narrowed is None or not narrowed.few or search_id is None:
        return []
    return [RerunButton(search_id, label="Show all")]


def noted(embed: discord.Embed, narrowed: OnMyServices[Any] | None) -> discord.Embed:
    """The list's footer, led by what narrowing left (“Only 3 of these films stream on your services”)."""
    if narrowed is not None:
        footer = f"{narrowed.note} · {embed.footer.text}" if embed.footer.text else narrowed.note
        embed.set_footer(text=clamp(footer, FOOTER_MAX))
    return embed
