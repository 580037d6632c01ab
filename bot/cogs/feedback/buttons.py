"""👍/👎 for whoever clicks: on a card for its film; on a list, an ephemeral multi-select of the
list's films (read from the list's own "Open a film…" select, so no state is kept)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.components import MarqueeItem, reported, services_of
from bot.embeds import md, plain
from services.db.feedback import DISLIKE, LIKE
from services.errors import OutOfDate
from services.tmdb.models import MovieSummary

VERDICTS = {"like": LIKE, "dislike": DISLIKE}


def noted(films: list[MovieSummary], verdict: str) -> str:
    names = ", ".join(f"**{md(f.label, 120)}**" for f in films)
    if verdict == "like":
        return f"👍 Noted: you like {names}. Your picks will lean that way."
    return f"👎 Noted: {names} won't be suggested to you again."


class FeedbackButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:feedback:(?P<verdict>like|dislike):(?P<movie_id>\d{1,10})",
):
    """The card's 👍 or 👎."""

    def __init__(self, verdict: str, movie_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if verdict == "like" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"marquee:feedback:{verdict}:{movie_id}",
            )
        )
        self.verdict, self.movie_id = verdict, movie_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        return cls(match["verdict"], int(match["movie_id"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        films = await services_of(interaction).feedback.record(
            interaction.user.id, [self.movie_id], VERDICTS[self.verdict]
        )
        await interaction.followup.send(noted(films, self.verdict), ephemeral=True)


class ListFeedbackButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:feedback:list:(?P<verdict>like|dislike)",
):
    """ "👍 Like…" / "👎 Not for me…" under a list: a multi-select of its films for whoever clicks."""

    def __init__(self, verdict: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Like…" if verdict == "like" else "Not for me…",
                emoji="👍" if verdict == "like" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"marquee:feedback:list:{verdict}",
            )
        )
        self.verdict = verdict

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ListFeedbackButton:
        return cls(match["verdict"])

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        options = _list_films(interaction.message)
        if not options:
            raise OutOfDate("button")
        view = discord.ui.View(timeout=None)
        view.add_item(FeedbackSelect.for_films(self.verdict, options))
        question = "Which of these do you like?" if self.verdict == "like" else "Which of these are not for you?"
        await interaction.response.send_message(question, view=view, ephemeral=True)


def _list_films(message: discord.Message | None) -> list[discord.SelectOption]:
    """The films of the list this button is under: its "Open a film…" select's options."""
    for row in message.components if message is not None else []:
        for component in getattr(row, "children", []):
            if isinstance(component, discord.SelectMenu) and str(component.custom_id).startswith("marquee:open:"):
                return [discord.SelectOption(label=o.label, value=o.value) for o in component.options]
    return []


class FeedbackSelect(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Select[Any]],
    template=r"marquee:feedback:pick:(?P<verdict>like|dislike)",
):
    def __init__(self, item: discord.ui.Select[Any], verdict: str) -> None:
        super().__init__(item)
        self.verdict = verdict

    @classmethod
    def for_films(cls, verdict: str, options: list[discord.SelectOption]) -> FeedbackSelect:
        select: discord.ui.Select[Any] = discord.ui.Select(
            custom_id=f"marquee:feedback:pick:{verdict}",
            placeholder=plain("Films you like…" if verdict == "like" else "Films not for you…", 150),
            options=options[:25],
            min_values=1,
            max_values=min(25, len(options)),
        )
        return cls(select, verdict)

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackSelect:
        assert isinstance(item, discord.ui.Select)
        return cls(item, match["verdict"])

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer()
        ids = [int(value) for value in self.item.values]  # options of this message: checked by the base
        films = await services_of(interaction).feedback.record(interaction.user.id, ids, VERDICTS[self.verdict])
        await interaction.edit_original_response(content=noted(films, self.verdict), view=None)


def list_feedback_buttons() -> list[discord.ui.Item[Any]]:
    return [ListFeedbackButton("like"), ListFeedbackButton("dislike")]


FEEDBACK_ITEMS = (FeedbackButton, ListFeedbackButton, FeedbackSelect)
