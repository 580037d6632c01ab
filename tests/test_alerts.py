"""Availability alerts: a sweep against the fake TMDB, the outbox sending the DMs to the Discord
emulator. Nothing for what was already true; one DM per change, over as many sweeps as run (side
by side too); none when alerts are off; a release; closed DMs tried once and shown on /watchlist;
TMDB failing for a film is never "not streaming"; a sweep killed half-way loses and repeats nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, embed, eventually, label
from tests.test_settings import choose
from worker.notify import DiscordDMs, Sender

NETFLIX, HULU = 8, 15


@pytest.fixture
async def sender(services: Services, emulator: Any) -> AsyncIterator[Sender]:
    dms = DiscordDMs("emulator-token", emulator.api_base)
    try:
        yield Sender(services, dms)
    finally:
        await dms.close()


async def watching(
    services: Services, user: dict[str, Any], *movie_ids: int, services_ids: tuple[int, ...] = (NETFLIX,)
) -> None:
    """`user` has alerts on, the given services in the US, and these films on their watchlist."""
    await choose(services, user, "US", *services_ids)
    await services.user_settings.save(int(user["id"]), alerts=True)
    for movie_id in movie_ids:
        await services.watchlist.add(int(user["id"]), movie_id, "US")


async def send_all(services: Services, sender: Sender) -> list[str]:
    async with services.db.connection() as conn:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM notices WHERE sent_at IS NULL AND failure IS NULL")]
    return [await sender.send(i) for i in ids]


async def deliver_dms(services: Services, emulator: Any) -> list[str]:
    """Send every notice owed, as the worker would, over a DM client of its own."""
    dms = DiscordDMs("emulator-token", emulator.api_base)
    try:
        return await send_all(services, Sender(services, dms))
    finally:
        await dms.close()


def alerts(emulator: Any, user: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in emulator.dms(user)]


async def test_one_dm_per_change_over_sweeps_and_none_for_what_was_true(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    tmdb.streaming[1004] = {"US": [NETFLIX]}  # already on Netflix when added: never announced
    await watching(services, emulator.alice, 1001, 1004)
    await watching(services, emulator.bob, 1001, services_ids=(HULU,))
    assert (await services.alerts.sweep()).alerts == 0

    tmdb.streaming[1001] = {"US": [NETFLIX, HULU]}
    report = await services.alerts.sweep()
    assert (report.films, report.checked, report.alerts, report.failed) == (2, 2, 2, [])
    await send_all(services, sender)
    film = tmdb.film(1001)
    assert alerts(emulator, emulator.alice) == [f"🎬 **{label(film)}** is now streaming on Netflix (US)"]
    assert alerts(emulator, emulator.bob) == [f"🎬 **{label(film)}** is now streaming on Hulu (US)"]
    assert (await services.alerts.sweep()).alerts == 0  # the same state: nothing new

    tmdb.streaming[1001] = {"US": []}  # it leaves...
    assert (await services.alerts.sweep()).alerts == 0
    tmdb.streaming[1001] = {"US": [NETFLIX]}  # ...and comes back: a new change
    assert (await services.alerts.sweep()).alerts == 1
    await send_all(services, sender)
    assert len(alerts(emulator, emulator.alice)) == 2 and len(alerts(emulator, emulator.bob)) == 1


async def test_none_when_alerts_are_off_and_a_release_is_announced(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    today = datetime.now(UTC).date()
    tmdb.released[1002] = (today + timedelta(days=3)).isoformat()
    await watching(services, emulator.alice, 1002)
    await watching(services, emulator.bob, 1002)
    await services.user_settings.save(int(emulator.bob["id"]), alerts=False)
    tmdb.released[1002] = today.isoformat()
    assert (await services.alerts.sweep()).alerts == 1
    await send_all(services, sender)
    assert alerts(emulator, emulator.alice) == [f"📅 **{tmdb.film(1002)['title']}** is out today"]
    assert alerts(emulator, emulator.bob) == []
    assert (await services.alerts.sweep()).alerts == 0


async def test_closed_dms_are_tried_once_and_shown_on_the_watchlist(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    await watching(services, emulator.alice, 1001, services_ids=(HULU,))
    emulator.block_dms(emulator.alice)
    tmdb.streaming[1001] = {"US": [HULU]}
    assert (await services.alerts.sweep()).alerts == 1
    assert await send_all(services, sender) == ["not delivered: the user's DMs are closed"]
    assert (await services.alerts.sweep()).alerts == 0 and await send_all(services, sender) == []  # not retried
    msg = await answer(emulator, "watchlist")
    line = embed(msg)["description"]
    assert "✅ on Hulu" in line
    assert "📭 now on Hulu — couldn't DM you, your DMs are closed" in line


async def test_tmdb_failing_for_a_film_is_skipped_never_read_as_not_streaming(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    tmdb.streaming[1001] = {"US": [NETFLIX]}
    await watching(services, emulator.alice, 1001, 1002)
    tmdb.failing_films.add(1001)
    report = await services.alerts.sweep()
    assert report.failed == [1001] and report.checked == 1
    tmdb.failing_films.clear()
    assert (await services.alerts.sweep()).alerts == 0  # it was streaming all along: nothing to say
    assert tmdb.calls_to("/movie/1002")[-1].query.get("language") == "en-US"


async def test_overlapping_sweeps_never_send_twice(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    await watching(services, emulator.alice, *range(1001, 1011))
    for movie_id in range(1001, 1011):
        tmdb.streaming[movie_id] = {"US": [NETFLIX]}
    reports = await asyncio.gather(services.alerts.sweep(), services.alerts.sweep(), services.alerts.sweep())
    assert sum(r.alerts for r in reports) == 10
    await send_all(services, sender)
    assert len(alerts(emulator, emulator.alice)) == 10


async def test_a_sweep_killed_half_way_loses_and_repeats_nothing(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, sender: Sender
) -> None:
    await watching(services, emulator.alice, *range(1001, 1031))
    for movie_id in range(1001, 1031):
        tmdb.streaming[movie_id] = {"US": [NETFLIX]}
    tmdb.latency = 0.05
    sweep = asyncio.create_task(services.alerts.sweep())

    async def some_written() -> bool | None:
        async with services.db.connection() as conn:
            return bool(await conn.fetchval("SELECT count(*) FROM notices")) or None

    await eventually(some_written)
    sweep.cancel()  # what SIGTERM does to the worker's job
    await asyncio.gather(sweep, return_exceptions=True)
    rerun = await services.alerts.sweep()
    assert 0 < rerun.alerts < 30  # only what the killed one had not done
    async with services.db.connection() as conn:
        films = await conn.fetch("SELECT payload->>'movie_id' AS film, count(*) AS n FROM notices GROUP BY 1")
    assert len(films) == 30 and {r["n"] for r in films} == {1}  # every film once: nothing lost, nothing twice
    await send_all(services, sender)
    assert len(alerts(emulator, emulator.alice)) == 30
