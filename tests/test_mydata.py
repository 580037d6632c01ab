"""/mydata: the counts, the download holding exactly what the database holds (and importing
back), Delete everything removing every row in every table (and the cached answers) without
registering the user again, refused while Pro renews, and a later /foryou treating them as new."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

from pydantic import TypeAdapter

from services.config import Settings
from services.db.mydata import USER_TABLES
from services.imports import letterboxd
from services.runtime import Services
from tests.billing_env import billing_loop
from tests.exports import LB_BASIC, csv_bytes, lb_row
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, embed, is_ephemeral, visible_answer
from tests.test_billing import upgrade
from tests.test_imports import imported
from tests.test_movienight import start_night, vote


async def everything(services: Services, user: dict[str, Any]) -> dict[str, int]:
    uid = int(user["id"])
    async with services.db.connection() as conn:
        counts = {
            t: await conn.fetchval(
                f"SELECT count(*) FROM {t} WHERE {'host_id' if t == 'movie_nights' else 'discord_id'} = $1", uid
            )
            for t in USER_TABLES
            if t != "import_rows"
        }
        counts["import_rows"] = await conn.fetchval(
            "SELECT count(*) FROM import_rows JOIN imports ON imports.id = import_id WHERE discord_id = $1", uid
        )
        counts["users"] = await conn.fetchval("SELECT count(*) FROM users WHERE discord_id = $1", uid)
    return counts


async def a_user_with_data(emulator: Any, services: Services, tmdb: FakeTMDB, user: dict[str, Any]) -> None:
    films = [
        lb_row("2020-01-01", "Silent Harbor", 1990),
        lb_row("2020-01-02", "Last Harbor", 1992),
        lb_row("2020-01-03", "Nowhere Picture", 2011),  # not matched: its row stays with the import
    ]
    export = csv_bytes(LB_BASIC, films)
    await imported(emulator, services, "letterboxd", "watched.csv", export, user=user)
    await services.watchlist.add(int(user["id"]), 1005, "US")
    await services.feedback.record(int(user["id"]), [1006], 1)
    await services.user_settings.save(int(user["id"]), region="GB", alerts=True)
    await answer(emulator, "search", {"query": "orbit"}, user=user)
    await answer(emulator, "foryou", user=user)
    # A movie night they host, and their vote in it.
    other = emulator.bob if user is emulator.alice else emulator.alice
    _, night = await start_night(emulator, {"member1": other}, user=user)
    await vote(emulator, night, 1, user)


async def test_the_download_holds_what_the_database_holds_and_imports_back(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await a_user_with_data(emulator, services, tmdb, emulator.alice)
    msg = await answer(emulator, "mydata")
    assert is_ephemeral(msg)
    text = embed(msg)["description"]
    assert "Searches: **1**" in text and "Watched films: **2**" in text and "Watchlist: **1**" in text, text
    assert "Taste profile: **yes**" in text and "Plan: **Free**" in text, text
    assert "Movie nights hosted: **1** · votes: **1**" in text, text

    got = await emulator.click(msg, component(msg, "marquee:mydata:download:")["custom_id"])
    shown = await visible_answer(got)
    assert is_ephemeral(shown)
    [att] = emulator.attachments_of(shown, r"\.zip$")
    archive = zipfile.ZipFile(io.BytesIO(emulator.attachment_bytes(att)))
    document = json.loads(archive.read("marquee.json"))
    counts = await everything(services, emulator.alice)
    assert {t: len(rows) for t, rows in document["tables"].items()} == {t: counts[t] for t in USER_TABLES}
    assert counts["import_rows"] == 1 and document["tables"]["import_rows"][0]["name"] == "Nowhere Picture"
    async with services.db.connection() as conn:
        watched = [r["movie_id"] for r in await conn.fetch("SELECT movie_id FROM watch_history ORDER BY 1")]
    assert sorted(r["movie_id"] for r in document["tables"]["watch_history"]) == watched
    assert document["tables"]["user_settings"][0]["region"] == "GB"
    assert all("token" not in key for row in document["tables"]["trakt_links"] for key in row)
    # The CSVs are Letterboxd's columns: they import back.
    parsed = letterboxd.parse("watched.csv", archive.read("watched.csv"))
    assert sorted((e.name, e.year) for e in parsed.entries) == [("Last Harbor", 1992), ("Silent Harbor", 1990)]


async def test_delete_everything_removes_every_row_and_a_later_foryou_starts_fresh(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await a_user_with_data(emulator, services, tmdb, emulator.alice)
    await a_user_with_data(emulator, services, tmdb, emulator.bob)
    bob_before = await everything(services, emulator.bob)
    assert await services.foryou.last_picks(int(emulator.alice["id"]))

    msg = await answer(emulator, "mydata")
    ask = await emulator.click(msg, component(msg, "marquee:mydata:delete:")["custom_id"])
    confirm = await visible_answer(ask)
    assert "can't be undone" in confirm["content"] and is_ephemeral(confirm)
    # Someone else cannot press it.
    other = await emulator.click(confirm, component(confirm, "marquee:mydata:confirm:")["custom_id"], user=emulator.bob)
    await visible_answer(other)
    assert (await everything(services, emulator.alice))["users"] == 1

    done = await emulator.click(confirm, component(confirm, "marquee:mydata:confirm:")["custom_id"])
    assert "everything Marquee kept about you is deleted" in (await visible_answer(done))["content"]
    assert all(n == 0 for n in (await everything(services, emulator.alice)).values())  # the click registered no one
    assert await everything(services, emulator.bob) == bob_before
    assert await services.cache.get(f"ai:foryou:last:{emulator.alice['id']}", TypeAdapter(object)) is None

    fresh = await answer(emulator, "foryou")
    assert "`/watched`" in fresh["content"]  # too little history: a new user
    again = await answer(emulator, "mydata")
    assert "Watched films: **0**" in embed(again)["description"]


async def test_delete_is_refused_while_pro_renews(settings: Settings, stripe_api: FakeStripe, emulator: Any) -> None:
    async with billing_loop(settings, stripe_api, emulator) as loop:
        session_id = await upgrade(emulator, loop, emulator.alice)
        await loop.send(*stripe_api.complete_checkout(session_id))
        assert await loop.tier(int(emulator.alice["id"])) == "pro"
        msg = await answer(emulator, "mydata")
        ask = await emulator.click(msg, component(msg, "marquee:mydata:delete:")["custom_id"])
        confirm = await visible_answer(ask)
        done = await emulator.click(confirm, component(confirm, "marquee:mydata:confirm:")["custom_id"])
        refused = await visible_answer(done)
        assert is_ephemeral(refused) and "Cancel it first in the billing portal" in refused["content"], refused
        assert "https://billing.stripe.com/" in refused["content"]
        assert await loop.tier(int(emulator.alice["id"])) == "pro"
