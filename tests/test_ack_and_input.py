"""The 3-second ack never waits on the database or TMDB, and what users type is handled as typed."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest

from services.errors import TMDBUnavailable
from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import component, embed, is_ephemeral, label, visible_answer


async def test_a_locked_users_table_never_delays_the_ack(
    bot: Any, emulator: Any, services: Services, database_url: str
) -> None:
    # Seen: a CREATE INDEX / vacuum / failover holding `users` made new users miss the ack (10062).
    locker = await asyncpg.connect(database_url)
    try:
        transaction = locker.transaction()
        await transaction.start()
        await locker.execute("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        help_answer = await visible_answer(await emulator.invoke("help", user=emulator.bob))
        assert embed(help_answer)["title"] == "Marquee"
        marking = await emulator.invoke("watched", {"title": "1001"}, user=emulator.bob)
        assert await marking.wait_callback() == 5 and not marking.rejected  # acknowledged at once
        await transaction.rollback()  # the mark waited on the lock after its ack; now it goes on
    finally:
        await locker.close()
    done = await visible_answer(marking)
    assert "Marked" in done["content"]


async def test_autocomplete_keeps_its_deadline_on_a_cold_cache(
    bot: Any, emulator: Any, tmdb: FakeTMDB, services: Services
) -> None:
    tmdb.latency = 2.6  # beyond what autocomplete may wait; the emulator rejects answers after 3 s
    assert await emulator.autocomplete("movie", "title", "") == []
    assert await emulator.autocomplete("movie", "title", "crim") == []
    with pytest.raises(TMDBUnavailable):  # the load went on behind the deadline (and timed out here)
        await services.catalog.browse("popular")
    tmdb.latency = 0
    assert len(await emulator.autocomplete("movie", "title", "")) == 20


async def test_only_ascii_digits_are_an_id(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    for typed in ("²", "①", "١٠٠٣"):
        msg = await visible_answer(await emulator.invoke("movie", {"title": typed}))
        assert is_ephemeral(msg) and msg["content"].startswith("I couldn't find a film matching")
    msg = await visible_answer(await emulator.invoke("movie", {"title": "1003"}))
    assert embed(msg)["title"] == label(tmdb.film(1003))


async def test_a_title_typed_as_digits_finds_that_film(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    tmdb.film(1050)["title"] = "1917"
    tmdb.film(1051)["title"] = "300"
    for typed, film in (("1917", tmdb.film(1050)), ("300", tmdb.film(1051))):
        msg = await visible_answer(await emulator.invoke("movie", {"title": typed}))
        assert embed(msg)["title"] == label(film)


async def test_control_characters_never_reach_the_database(bot: Any, emulator: Any, services: Services) -> None:
    msg = await visible_answer(await emulator.invoke("search", {"query": "silent\x00 harbor\x1b"}))
    assert "Silent Harbor" in embed(msg)["description"]
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT query FROM search_history") == "silent harbor"


async def test_a_title_several_films_share_offers_the_others(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    dunes = [tmdb.film(1020), tmdb.film(1040), tmdb.film(1060)]
    for film in dunes:
        film["title"] = "Dune"
    msg = await visible_answer(await emulator.invoke("movie", {"title": "dune"}))
    assert embed(msg)["title"] == label(dunes[0])
    others = component(msg, "marquee:open:")
    assert others["placeholder"].startswith("Not this one?")
    assert [o["value"] for o in others["options"]] == [str(dunes[1]["id"]), str(dunes[2]["id"])]
    pick = await emulator.select(msg, others["custom_id"], [str(dunes[2]["id"])])
    assert embed(await visible_answer(pick))["title"] == label(dunes[2])


OUT_OF_DATE = "This menu is out of date; run the command again for a fresh one."
FORGED = [["abc"], [""], ["99999999"], ["1e3"], ["1001", "1002"], ["-5"]]


async def test_forged_select_values_are_out_of_date_and_change_nothing(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, caplog: pytest.LogCaptureFixture
) -> None:
    listing = await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
    opener = component(listing, "marquee:open:")["custom_id"]
    for film in tmdb.films[:3]:
        await services.watch.mark_id(int(emulator.alice["id"]), film["id"])
    history = await visible_answer(await emulator.invoke("watched"))
    remover = component(history, "marquee:unwatch:")["custom_id"]
    not_on_it = str(tmdb.films[40]["id"])  # a real film, but not one the menu offered
    cases = [(listing, opener, values) for values in FORGED] + [
        (history, remover, values) for values in [*FORGED, [not_on_it]]
    ]
    with caplog.at_level("ERROR"):
        for message, custom_id, values in cases:
            msg = await visible_answer(await emulator.forge_select(message, custom_id, values))
            assert is_ephemeral(msg) and msg["content"] == OUT_OF_DATE, (custom_id, values)
    assert not [r for r in caplog.records if r.levelname == "ERROR"]  # no traceback: an expected answer
    assert (await services.watch.recent(int(emulator.alice["id"]), 1)).total == 3
    # The real options still work.
    pick = await emulator.select(listing, opener, [component(listing, "marquee:open:")["options"][0]["value"]])
    assert "title" in embed(await visible_answer(pick))


async def test_a_control_no_item_matches_is_answered_as_out_of_date(bot: Any, emulator: Any) -> None:
    listing = await visible_answer(await emulator.invoke("browse", {"list": "popular"}))
    stored = emulator.message(listing["id"])  # as an old version (or a forged client) left it
    button = next(
        c for row in stored["components"] for c in row["components"] if c["type"] == 2 and not c.get("disabled")
    )
    owner = emulator.alice["id"]
    for custom_id in (f"marquee:browse:popular:99999:{owner}", "marquee:retired-feature:1", "marquee:similar:x"):
        button["custom_id"] = custom_id
        msg = await visible_answer(await emulator.click(stored, custom_id))
        assert is_ephemeral(msg) and msg["content"] == OUT_OF_DATE.replace("menu", "button")
