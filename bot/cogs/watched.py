"""/watched: mark a film watched, or page through your watch history, open or remove entries."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.autocomplete import film_titles
from bot.card import OpenFilmSelect, watched_message
from bot.components import MarqueeItem, page_button, page_buttons, reported, services_of
from services.tmdb.models import MovieSummary
from services.watch import WatchList

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class WatchPageButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:watchpage:(?P<page>\d{1,6}):(?P<owner>\d{1,20})",
):
    """Another page of the owner's watch history."""

    def __init__(self, page: int, owner_id: int, *, label: str, disabled: bool = False) -> None:
        super().__init__(page_button(f"marquee:watchpage:{page}:{owner_id}", label, disabled))
        self.page, self.owner_id = page, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WatchPageButton:
        return cls(int(match["page"]), int(match["owner"]), label=getattr(item, "label", "") or "")

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        history = await services_of(interaction).watch.recent(interaction.user.id, self.page)
        await interaction.edit_original_response(
            embed=history_embed(history), view=history_view(history, interaction.user.id)
        )


class RemoveWatchedSelect(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"marquee:unwatch:(?P<page>\d{1,6}):(?P<owner>\d{1,20})",
):
    """Removes a film from the owner's watch history, then shows the page again."""

    def __init__(self, item: discord.ui.Select[Any], page: int, owner_id: int) -> None:
        super().__init__(item)
        self.page, self.owner_id = page, owner_id

    @classmethod
    def for_history(cls, history: WatchList, owner_id: int) -> RemoveWatchedSelect:
        options = [
            discord.SelectOption(label=embeds.plain(_label(f.title, f.release_date), 100), value=str(f.movie_id))
            for f in history.films
        ]
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"marquee:unwatch:{history.page}:{owner_id}", placeholder="Remove from history…", options=options
        )
        return cls(select, history.page, owner_id)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RemoveWatchedSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item, int(match["page"]), int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        watch = services_of(interaction).watch
        await watch.unmark(interaction.user.id, int(self.item.values[0]))
        history = await watch.recent(interaction.user.id, self.page)
        await interaction.edit_original_response(
            embed=history_embed(history), view=history_view(history, interaction.user.id)
        )


def _label(title: str, released: date | None) -> str:
    return f"{title} ({released.year})" if released else title


def history_embed(history: WatchList) -> discord.Embed:
    lines = [
        f"{discord.utils.format_dt(f.watched_at, 'd')} · {embeds.md(_label(f.title, f.release_date), 150)}"
        for f in history.films
    ]
    embed = discord.Embed(
        title="Your watch history",
        description="\n".join(lines) if lines else "Nothing yet: mark a film with /watched.",
        colour=embeds.BRAND,
    )
    films = f"{history.total} film{'s' * (history.total != 1)}"
    embed.set_footer(text=f"Page {history.page} of {history.pages} · {films}" if history.pages > 1 else films)
    return embeds.fit(embed)


def history_view(history: WatchList, owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if not history.films:
        return view
    if history.pages > 1:
        for button in page_buttons(
            lambda number, label, disabled: WatchPageButton(number, owner_id, label=label, disabled=disabled),
            history.page,
            history.pages,
        ):
            view.add_item(button)
    films = [MovieSummary(f.movie_id, f.title, f.release_date) for f in history.films]
    view.add_item(OpenFilmSelect.for_films(films, f"watched_{history.page}", {}))
    view.add_item(RemoveWatchedSelect.for_history(history, owner_id))
    return view


class Watched(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="watched", description="Mark a film as watched, or see your watch history")
    @app_commands.describe(title="The film you watched (leave empty to see your history)")
    @app_commands.autocomplete(title=film_titles)
    async def watched(
        self,
        interaction: discord.Interaction[MarqueeBot],
        title: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        watch = self.bot.services.watch
        if title is None:
            history = await watch.recent(interaction.user.id)
            await interaction.followup.send(
                embed=history_embed(history), view=history_view(history, interaction.user.id), ephemeral=True
            )
            return
        result = await watch.mark(interaction.user.id, title)
        message = watched_message(result.film, result.newly_added, result.total)
        if result.others:
            genres = await self.bot.services.catalog.genre_names()
            view = discord.ui.View(timeout=None)
            view.add_item(
                OpenFilmSelect.for_films(
                    result.others, f"others_{result.film.id}", genres, "Not this one? Open the others"
                )
            )
            await interaction.followup.send(message, view=view, ephemeral=True)
        else:
            await interaction.followup.send(message, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(WatchPageButton, RemoveWatchedSelect)
    await bot.add_cog(Watched(bot))
