"""Fast tests of the Discord layer with spec'd fakes of discord.py objects: the error mapping,
the component check, admission while stopping, and custom-id parsing."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from unittest.mock import AsyncMock, MagicMock, Mock

import discord
import pytest
from discord import app_commands

from bot.card import OpenFilmSelect, WatchedButton
from bot.cogs.browse import BrowsePageButton
from bot.cogs.search import SearchPageButton
from bot.cogs.watched import RemoveWatchedSelect, WatchPageButton
from bot.components import MarqueeItem
from bot.errors import UNEXPECTED, user_message
from bot.inflight import ABANDONED, InFlight
from services.errors import (
    BadInput,
    DatabaseUnavailable,
    MovieNotFound,
    NoResults,
    NotYours,
    ShuttingDown,
    TMDBAuthError,
    TMDBUnavailable,
)


def fake_interaction(user_id: int = 1, *, admit: Any = None) -> Any:
    interaction = MagicMock(spec=discord.Interaction)
    interaction.user = MagicMock(spec=discord.User, id=user_id)
    interaction.extras = {}
    interaction.command = None
    interaction.data = {"custom_id": "marquee:test:1"}
    interaction.response = MagicMock(spec=discord.InteractionResponse)
    interaction.response.is_done = Mock(return_value=False)
    interaction.response.send_message = AsyncMock()
    interaction.client = MagicMock()
    interaction.client.inflight.admit = Mock(side_effect=admit)
    return interaction


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (BadInput("Type a few words."), "Type a few words."),
        (MovieNotFound("x [y](z)"), "I couldn't find a film matching “x \\[y\\](z)”. Try `/search` with fewer words."),
        (TMDBUnavailable("HTTP 500"), "TMDB isn't answering right now. Try again in a minute."),
        (TMDBUnavailable("rate limited", retry_after=42.4), "TMDB is busy right now. Try again in 42 seconds."),
        (
            TMDBAuthError(),
            "Marquee can't reach TMDB right now (the bot's TMDB access was refused). The operator has been told.",
        ),
        (DatabaseUnavailable("x"), "Marquee's database is unreachable right now. Try again in a minute."),
        (NoResults("@everyone"), "No films match \\@everyone. Try fewer or different words, or drop the year."),
        (ShuttingDown(), "Marquee is restarting. Try again in a few seconds."),
    ],
)
def test_domain_errors_carry_their_user_message(error: Exception, expected: str) -> None:
    assert user_message(error) == expected


def test_the_unexpected_has_no_user_message() -> None:
    assert user_message(KeyError("id")) is None
    transformer = app_commands.TransformerError("²", discord.AppCommandOptionType.integer, MagicMock())
    assert user_message(transformer) == "“²” isn't a valid value there."


class Probe(MarqueeItem):
    def __init__(self, owner_id: int | None) -> None:
        self.owner_id = owner_id


async def test_an_unexpected_error_in_a_check_still_answers() -> None:
    interaction = fake_interaction(admit=RuntimeError("boom"))
    assert await Probe(None).interaction_check(interaction) is False
    interaction.response.send_message.assert_awaited_once_with(UNEXPECTED, ephemeral=True)


async def test_a_component_answers_only_its_owner() -> None:
    interaction = fake_interaction(user_id=2)
    assert await Probe(1).interaction_check(interaction) is False
    interaction.response.send_message.assert_awaited_once_with(NotYours().user_message, ephemeral=True)
    interaction.client.inflight.admit.assert_not_called()
    owner = fake_interaction(user_id=1)
    assert await Probe(1).interaction_check(owner) is True


async def test_a_stop_admits_nothing_new_and_waits_for_what_runs() -> None:
    inflight, gate = InFlight(), asyncio.Event()

    async def command() -> None:
        inflight.admit(fake_interaction())
        await gate.wait()

    running = asyncio.create_task(command())
    await asyncio.sleep(0)  # let it start
    assert len(inflight) == 1
    drain = asyncio.create_task(inflight.drain(5))
    await asyncio.sleep(0)
    with pytest.raises(ShuttingDown):
        inflight.admit(fake_interaction())
    gate.set()
    assert await drain == (1, 0)
    await running


async def test_work_abandoned_at_the_deadline_is_reported_to_its_user() -> None:
    inflight = InFlight()
    interaction = fake_interaction()

    async def stuck() -> None:
        inflight.admit(interaction)
        await asyncio.Event().wait()

    task = asyncio.create_task(stuck())
    await asyncio.sleep(0)
    assert await inflight.drain(0.05) == (0, 1)
    assert task.cancelled()
    interaction.response.send_message.assert_awaited_once_with(ABANDONED, ephemeral=True)


def template(item: type) -> re.Pattern[str]:
    return item.__discord_ui_compiled_template__  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("item", "good", "bad"),
    [
        (BrowsePageButton, "marquee:browse:popular:2:123", ["marquee:browse:popular:x:123", "marquee:browse:p:2"]),
        (SearchPageButton, "marquee:search:77:3:123", ["marquee:search:77:3", "marquee:search:a:3:1"]),
        (WatchPageButton, "marquee:watchpage:2:123", ["marquee:watchpage:-1:123"]),
        (RemoveWatchedSelect, "marquee:unwatch:1:123", ["marquee:unwatch:1"]),
        (WatchedButton, "marquee:watched:1003", ["marquee:watched:", "marquee:watched:12345678901"]),
        (OpenFilmSelect, "marquee:open:search_9_1", ["marquee:open:Bad Nonce"]),
    ],
)
def test_custom_ids_parse_strictly(item: type, good: str, bad: list[str]) -> None:
    assert template(item).fullmatch(good)
    for custom_id in bad:
        assert template(item).fullmatch(custom_id) is None
    assert len(good) <= 100  # Discord's custom_id limit


async def test_a_page_button_rebuilds_from_its_custom_id() -> None:
    match = template(BrowsePageButton).fullmatch("marquee:browse:top_rated:4:99")
    assert match is not None
    button = await BrowsePageButton.from_custom_id(fake_interaction(), MagicMock(label="Next ▶"), match)
    assert (button.kind, button.page, button.owner_id) == ("top_rated", 4, 99)
    assert button.item.custom_id == "marquee:browse:top_rated:4:99"
