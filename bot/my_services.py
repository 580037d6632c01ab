"""The `only_my_services:` option's shared pieces: its description, and the note a narrowed
list carries in its footer (/browse, /ask, /foryou, /semantic)."""

from __future__ import annotations

from typing import Any

import discord

from bot.embeds import FOOTER_MAX, clamp
from services.personal.my_services import OnMyServices

DESCRIBE = "Only films that stream on your services (choose them in /settings)"


def noted(embed: discord.Embed, narrowed: OnMyServices[Any] | None) -> discord.Embed:
    """The list's footer, led by what narrowing left (“Only 3 of these films stream on your services”)."""
    if narrowed is not None:
        footer = f"{narrowed.note} · {embed.footer.text}" if embed.footer.text else narrowed.note
        embed.set_footer(text=clamp(footer, FOOTER_MAX))
    return embed
