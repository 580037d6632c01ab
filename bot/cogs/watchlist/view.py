"""/watchlist's message: numbered lines, paging buttons, a "Sort…" select and a "Pick a film…"
select that opens the film's card (with Watched and Remove from watchlist)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot import embeds
from bot.card import send_own_card
from bot.components import MarqueeItem, page_button, page_buttons, reported, services_of
from bot.where import preferences
from services.db.alerts import Undelivered
from services.personal.alerts import STREAMING
from services.watchlist import SORTS, WatchlistPage

OWNER = r"(?P<owner>\d{1,20})"
SORT = r"(?P<sort>added|release|rating)"


def _label(film: Any) -> str:
    return f"{film.title} ({film.release_date.year})" if film.release_date else film.title


def watchlist_message(listed: WatchlistPage, owner_id: int) -> tuple[discord.Embed, discord.ui.View]:
    lines = []
    for number, film in enumerate(listed.films, start=(listed.page - 1) * 10 + 1):
        when = embeds.date_text(film.release_date) if film.release_date else "date not known"
        line = f"**{number}.** {embeds.md(_label(film), 150)} · {when}"
        if on := listed.streaming.get(film.movie_id):
            line += f" · ✅ on {embeds.md(', '.join(on), 100)}"
        if lost := listed.undelivered.get(film.movie_id):
            line += "\n╰ 📭 " + _undelivered(lost) + " — couldn't DM you, your DMs are closed"
        lines.append(line)
    embed = discord.Embed(
        title="Your watchlist",
        description="\n".join(lines) if lines else "Nothing yet: add films with ➕ Watchlist on any film's card.",
        colour=embeds.BRAND,
    )
    films = f"{listed.total} film{'s' * (listed.total != 1)}"
    pages = f"Page {listed.page} of {listed.pages} · " if listed.pages > 1 else ""
    embed.set_footer(text=f"{pages}{films} · {SORTS[listed.sort]}")
    view = discord.ui.View(timeout=None)
    if listed.films:
        if listed.pages > 1:
            for button in page_buttons(
                lambda page, label, disabled: WatchlistPageButton(page, listed.sort, owner_id, label, disabled),
                listed.page,
                listed.pages,
            ):
                view.add_item(button)
        view.add_item(WatchlistSort.for_sort(listed.sort, owner_id))
        view.add_item(WatchlistPick.for_page(listed, owner_id))
    return embeds.fit(embed), view


def _undelivered(alert: Undelivered) -> str:
    if alert.kind == STREAMING:
        services = alert.payload.get("services")
        names = ", ".join(str(s) for s in services) if isinstance(services, list) else "your services"
        return f"now on {embeds.md(names, 100)}"
    return "out now"


async def show(interaction: discord.Interaction, owner_id: int, page: int, sort: str) -> None:
    """Edit the list in place (the interaction was deferred)."""
    services = services_of(interaction)
    prefs = await preferences(interaction, owner_id)
    listed = await services.watchlist.page(owner_id, page, sort, prefs)
    embed, view = watchlist_message(listed, owner_id)
    await interaction.edit_original_response(embed=embed, view=view)


class WatchlistPageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=rf"marquee:watchlist:page:(?P<page>\d{{1,6}}):{SORT}:{OWNER}",
):
    def __init__(self, page: int, sort: str, owner_id: int, label: str = "", disabled: bool = False) -> None:
        super().__init__(page_button(f"marquee:watchlist:page:{page}:{sort}:{owner_id}", label, disabled))
        self.page, self.sort, self.owner_id = page, sort, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchlistPageButton:
        return cls(int(match["page"]), match["sort"], int(match["owner"]), getattr(item, "label", "") or "")

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await show(interaction, interaction.user.id, self.page, self.sort)  # the owner: checked


class WatchlistSort(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=rf"marquee:watchlist:sort:{OWNER}",
):
    def __init__(self, item: discord.ui.Select[Any], owner_id: int) -> None:
        super().__init__(item)
        self.owner_id = owner_id

    @classmethod
    def for_sort(cls, sort: str, owner_id: int) -> WatchlistSort:
        options = [
            discord.SelectOption(label=f"Sort: {name}", value=key, default=key == sort) for key, name in SORTS.items()
        ]
        return cls(discord.ui.Select(custom_id=f"marquee:watchlist:sort:{owner_id}", options=options), owner_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchlistSort:
        assert isinstance(item, discord.ui.Select)
        return cls(item, int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        await show(interaction, interaction.user.id, 1, self.item.values[0])  # the owner: checked


class WatchlistPick(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=rf"marquee:watchlist:pick:{OWNER}",
):
    """Opens a listed film's card, with Watched and Remove from watchlist."""

    def __init__(self, item: discord.ui.Select[Any], owner_id: int) -> None:
        super().__init__(item)
        self.owner_id = owner_id

    @classmethod
    def for_page(cls, listed: WatchlistPage, owner_id: int) -> WatchlistPick:
        options = [
            discord.SelectOption(label=embeds.plain(_label(film), 100), value=str(film.movie_id))
            for film in listed.films
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"marquee:watchlist:pick:{owner_id}", placeholder="Pick a film…", options=options
        )
        return cls(select, owner_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchlistPick:
        assert isinstance(item, discord.ui.Select)
        return cls(item, int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await send_own_card(interaction, int(self.item.values[0]))
