"""Buttons and selects. All are DynamicItems: their state lives in the custom id
(namespaced `marquee:`), so they keep working across restarts, processes and shards, and no
view with a timeout outlives the bot."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Coroutine
from typing import Any, Concatenate, ParamSpec, TypeVar

import discord

from bot import embeds
from bot.errors import report_error, send_ephemeral
from bot.tree import register_user
from services.runtime import Services
from services.tmdb.models import MovieDetails, MoviePage

P = ParamSpec("P")
SelfT = TypeVar("SelfT")
NOT_YOURS = "These controls belong to whoever ran the command; run it yourself to get your own."


def services_of(interaction: discord.Interaction) -> Services:
    return interaction.client.services  # type: ignore[attr-defined]  # always a MarqueeBot


async def check_component(interaction: discord.Interaction, owner_id: int | None = None) -> bool:
    """Every component interaction: only its owner where it has one, and the user is upserted."""
    if owner_id is not None and interaction.user.id != owner_id:
        await send_ephemeral(interaction, NOT_YOURS)
        return False
    return await register_user(interaction)


def reported(
    callback: Callable[Concatenate[SelfT, discord.Interaction, P], Coroutine[Any, Any, None]],
) -> Callable[Concatenate[SelfT, discord.Interaction, P], Coroutine[Any, Any, None]]:
    """Route a component callback's failures through the one error path (discord.py only logs them)."""

    @functools.wraps(callback)
    async def wrapper(self: SelfT, interaction: discord.Interaction, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await callback(self, interaction, *args, **kwargs)
        except Exception as exc:
            await report_error(interaction, exc)

    return wrapper


class BrowsePageButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:browse:(?P<kind>[a-z_]+):(?P<page>\d+):(?P<owner>\d+)",
):
    """Turns a /browse message to another page (only for the person who ran /browse)."""

    def __init__(self, kind: str, page: int, owner_id: int, *, label: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"marquee:browse:{kind}:{page}:{owner_id}",
                disabled=disabled,
            )
        )
        self.kind, self.page, self.owner_id = kind, page, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> BrowsePageButton:
        return cls(match["kind"], int(match["page"]), int(match["owner"]), label=getattr(item, "label", "") or "")

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await check_component(interaction, self.owner_id)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        services = services_of(interaction)
        page = await services.catalog.browse(self.kind, self.page)
        genres = await services.catalog.genre_names()
        await interaction.edit_original_response(
            embed=embeds.film_list(embeds.LIST_TITLES[self.kind], page, genres),
            view=browse_view(self.kind, page, self.owner_id),
        )


class OpenFilmSelect(
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"marquee:open:(?P<nonce>[a-z_0-9]+)",
):
    """Opens one film of a list as a card, shown to whoever picked it."""

    @classmethod
    def for_page(cls, page: MoviePage, nonce: str) -> OpenFilmSelect:
        options = [
            discord.SelectOption(
                label=embeds.clamp(film.label, 100),
                value=str(film.id),
                description=embeds.clamp(film.overview, 100) or None,
            )
            for film in page.results[:25]
        ]
        return cls(
            discord.ui.Select(
                custom_id=f"marquee:open:{nonce}",
                placeholder="Open a film…",
                options=options or [discord.SelectOption(label="Nothing to open", value="0")],
                disabled=not options,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> OpenFilmSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item)

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await check_component(interaction)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = services_of(interaction)
        film = await services.catalog.details(int(self.item.values[0]))
        images = await services.catalog.image_config()
        await interaction.followup.send(
            embed=embeds.film_card(film, images, services.settings.tmdb_region),
            view=card_view(film),
            ephemeral=True,
        )


class WatchedButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:watched:(?P<movie_id>\d+)",
):
    """Adds the card's film to the clicking user's watch history."""

    def __init__(self, movie_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Watched",
                emoji="✅",
                style=discord.ButtonStyle.success,
                custom_id=f"marquee:watched:{movie_id}",
            )
        )
        self.movie_id = movie_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchedButton:
        return cls(int(match["movie_id"]))

    async def interaction_check(self, interaction: discord.Interaction, /) -> bool:
        return await check_component(interaction)

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await services_of(interaction).watch.mark_id(interaction.user.id, self.movie_id)
        await interaction.followup.send(watched_message(result.film, result.newly_added, result.total), ephemeral=True)


COMPONENTS = (BrowsePageButton, OpenFilmSelect, WatchedButton)


def watched_message(film: MovieDetails, newly_added: bool, total: int) -> str:
    films = f"{total} film{'s' * (total != 1)}"
    if newly_added:
        return f"Marked **{film.summary.label}** as watched. Your history now has {films}."
    return f"**{film.summary.label}** was already in your history ({films}); I moved it to the top."


def browse_view(kind: str, page: MoviePage, owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(BrowsePageButton(kind, max(1, page.page - 1), owner_id, label="◀ Previous", disabled=page.page <= 1))
    view.add_item(
        BrowsePageButton(kind, page.page + 1, owner_id, label="Next ▶", disabled=page.page >= page.total_pages)
    )
    view.add_item(OpenFilmSelect.for_page(page, f"{kind}_{page.page}"))
    return view


def results_view(page: MoviePage, nonce: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(OpenFilmSelect.for_page(page, nonce))
    return view


def card_view(film: MovieDetails) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if trailer := film.trailer:
        view.add_item(discord.ui.Button(label="Trailer", emoji="🎬", url=trailer.url))
    view.add_item(WatchedButton(film.id))
    return view
