"""/import letterboxd and /import imdb end to end: the file attached through the Discord emulator
(served from its CDN), read and staged by the bot, matched and applied by the real worker job
against the fake TMDB, the answer edited with the summary and not_matched.csv."""

from __future__ import annotations

import asyncio
import csv
import io
from typing import Any

import pytest
from arq import Retry

from services.ai.matching import search_text
from services.runtime import Services
from tests.exports import (
    IMDB_LIST,
    IMDB_RATINGS,
    LB_BASIC,
    csv_bytes,
    lb_row,
    letterboxd_zip,
)
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, eventually, is_ephemeral
from tests.test_alerts import deliver_dms
from worker.imports import import_sweep, run_import

TABLES = ("watch_history", "feedback", "watchlist")


async def imported(
    emulator: Any, services: Services, source: str, filename: str, data: bytes, user: Any = None
) -> dict[str, Any]:
    """Attach the file to /import <source>, run the worker's job, and return the answer as the user sees it."""
    att = emulator.attachment(filename, data)
    rec = await emulator.invoke("import", {"file": att}, subcommand=source, user=user)
    await rec.wait_callback()
    await rec.wait_for(lambda: bool(rec.original and rec.original.get("content")), 10, "the first answer")
    assert is_ephemeral(rec.original) and rec.original["content"].startswith("⏳ Importing from")
    async with services.db.connection() as conn:
        import_id = await conn.fetchval("SELECT max(id) FROM imports WHERE status = 'queued'")
    assert (await run_import({"services": services}, import_id)).startswith("done: summary shown")
    return emulator.message(rec.original["id"])


async def rows(services: Services, user: dict[str, Any]) -> dict[str, list[tuple[Any, ...]]]:
    uid = int(user["id"])
    async with services.db.connection() as conn:
        return {
            "watch_history": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT movie_id, watched_at FROM watch_history WHERE discord_id = $1 ORDER BY 1", uid
                )
            ],
            "feedback": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT tmdb_id, verdict, rating, updated_at FROM feedback WHERE discord_id = $1 ORDER BY 1", uid
                )
            ],
            "watchlist": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT tmdb_id, added_at FROM watchlist WHERE discord_id = $1 ORDER BY 1", uid
                )
            ],
        }


def letterboxd_export(tmdb: FakeTMDB) -> bytes:
    tmdb.add_film("Amélie", 2001)
    tmdb.add_film("The Lighthouse", 2019)
    watched = [
        lb_row("2020-03-01", "Silent Harbor", 1990),
        lb_row("2020-03-02", "Silent Harbor", 2020),  # same name, told apart by the year
        lb_row("2020-03-03", "Amelie", 2001),  # TMDB writes it with its accent
        lb_row("2020-03-04", "The Lighthouse", 2019),
        lb_row("2020-03-05", "Nowhere Picture", 2011),  # TMDB lacks it
        lb_row("2020-03-06", "Last Harbor", 1993),  # a year off: released 1992
        lb_row("2020-03-07", "", 2000),  # no name: skipped
        lb_row("2020-03-08", "Golden Signal", "19x9"),  # not a year: skipped
    ]
    diary = [lb_row("2021-05-02", "Midnight Harbor", 1993, "4.5", "", "", "2021-05-01")]
    ratings = [
        lb_row("2021-05-03", "Silent Harbor", 2020, "0.5"),  # ½ star: 👎
        lb_row("2021-05-03", "Amelie", 2001, "3"),  # kept, neither 👍 nor 👎
        lb_row("2021-05-03", "Midnight Harbor", 1993, "4.5"),
        lb_row("2021-05-03", "Last Harbor", 1993, "7"),  # out of range: skipped
    ]
    watchlist = [lb_row("2021-06-01", "Golden Harbor", 1994), lb_row("2021-06-02", "Broken Harbor", 1995)]
    return letterboxd_zip(watched, ratings, diary, watchlist)


async def test_a_letterboxd_export_lands_in_history_feedback_and_watchlist_once(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    data = letterboxd_export(tmdb)
    amelie, lighthouse = 1000 + tmdb.film_count, 1001 + tmdb.film_count
    msg = await imported(emulator, services, "letterboxd", "letterboxd-ana-2026-12-05.zip", data)
    text = msg["content"]
    assert "✅ Imported from Letterboxd" in text
    assert "Watch history: 6 added, 0 already there" in text, text
    assert "Ratings: 3 added" in text and "Watchlist: 2 added" in text, text
    assert "Not matched on TMDB: 1" in text and "Nowhere Picture (2011)" in text, text
    assert "the name is empty: 1" in text and "the year is not a number: 1" in text, text
    assert "the rating is out of range: 1" in text, text
    [att] = emulator.attachments_of(msg, r"not_matched\.csv$")
    assert list(csv.reader(io.StringIO(emulator.attachment_bytes(att).decode()))) == [
        ["Title", "Year"],
        ["Nowhere Picture", "2011"],
    ]

    got = await rows(services, emulator.alice)
    # Watched with the date it was watched; deleted/, orphaned/, likes/, lists/ and reviews never count.
    assert [r[0] for r in got["watch_history"]] == sorted([1000, 1100, amelie, lighthouse, 1002, 1003])
    # 1002 watched in the diary
    watched_on = {r[0]: r[1].date().isoformat() for r in got["watch_history"]}
    assert watched_on[1000] == "2020-03-01" and watched_on[1003] == "2021-05-01"
    verdicts = {r[0]: (r[1], r[2]) for r in got["feedback"]}
    assert verdicts == {1100: (-1, 1), amelie: (None, 6), 1003: (1, 9)}
    assert [r[0] for r in got["watchlist"]] == [1004, 1005]

    # The same export again adds nothing and changes nothing.
    searches = len(tmdb.calls_to("/search/movie"))
    again = await imported(emulator, services, "letterboxd", "letterboxd-ana-2026-12-05.zip", data)
    assert "Watch history: 0 added, 6 already there" in again["content"], again["content"]
    assert "Ratings: 0 added, 3 already there" in again["content"]
    assert await rows(services, emulator.alice) == got
    assert len(tmdb.calls_to("/search/movie")) == searches  # matched through the cached search

    # /foryou now knows the user, and never offers a film they watched, whatever the model says.
    llm.include = [("Silent Harbor", 1990), ("Amélie", 2001), ("The Lighthouse", 2019), ("Midnight Harbor", 1993)]
    picks = await answer(emulator, "foryou")
    shown = {int(o["value"]) for o in component(picks, "marquee:open:")["options"]}
    assert shown and not shown & {r[0] for r in got["watch_history"]}


async def test_one_watched_film_matches_once_however_many_rows_name_it(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    single = csv_bytes(LB_BASIC, [lb_row(f"2020-01-{d:02d}", "Silent Harbor", 1990) for d in range(1, 21)])
    msg = await imported(emulator, services, "letterboxd", "watched.csv", single)
    assert "Watch history: 1 added" in msg["content"]
    assert len(tmdb.calls_to("/search/movie")) == 1
    got = await rows(services, emulator.alice)
    assert got["watch_history"][0][1].date().isoformat() == "2020-01-01"  # the earliest date


async def test_an_imdb_export_counts_what_is_not_a_film_and_fills_the_watchlist(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    def rating(movie_id: int, stars: int, kind: str = "Movie") -> list[object]:
        film = tmdb.film(movie_id)
        return [tmdb.imdb_id(movie_id), stars, "2023-01-02", film["title"], film["title"], "", kind, 7.1, 100,
                film["release_date"][:4], "Drama", 1000, film["release_date"], "Someone"]  # fmt: skip

    ratings = csv_bytes(
        IMDB_RATINGS,
        [
            rating(1010, 9),
            rating(1011, 3),
            rating(1012, 5, "tvMovie"),  # an older export's type name: a film
            rating(1013, 8, "TV Series"),
            rating(1014, 8, "TV Episode"),
            ["tt0000001", 8, "2023-01-02", "Lost", "", "", "Movie", "", "", "1950", "", "", "", ""],  # TMDB lacks it
        ],
        bom=True,
    )
    msg = await imported(emulator, services, "imdb", "ratings.csv", ratings)
    text = msg["content"]
    assert "Watch history: 3 added" in text and "Ratings: 3 added" in text, text
    assert "not a film (TV Series): 1" in text and "not a film (TV Episode): 1" in text, text
    assert "Not matched on TMDB: 1" in text and "Lost (1950)" in text, text
    got = await rows(services, emulator.alice)
    assert {r[0]: (r[1], r[2]) for r in got["feedback"]} == {1010: (1, 9), 1011: (-1, 3), 1012: (None, 5)}

    watchlist = csv_bytes(
        IMDB_LIST,
        [
            [
                n + 1,
                tmdb.imdb_id(i),
                "2024-02-0" + str(n + 1),
                "",
                "",
                tmdb.film(i)["title"],
                "",
                "",
                "Movie",
                "",
                "",
                "2001",
                "",
                "",
                "",
                "",
                "",
                "",
            ]
            for n, i in enumerate((1020, 1021))
        ],
    )
    msg = await imported(emulator, services, "imdb", "WATCHLIST.csv", watchlist)
    assert "Watchlist: 2 added" in msg["content"], msg["content"]
    assert [r[0] for r in (await rows(services, emulator.alice))["watchlist"]] == [1020, 1021]


@pytest.mark.parametrize(
    ("filename", "make", "refusal"),
    [
        ("notes.pdf", lambda: b"%PDF-1.7 binary", "isn't a ZIP or CSV file"),
        ("watched.csv", lambda: csv_bytes(["Date", "Title"], [["2020-01-01", "X"]]), "`watched.csv` has no `Name`"),
        ("ratings.csv", lambda: csv_bytes(LB_BASIC, [lb_row("2020-01-01", "X", 2000)]), "has no `Rating` column"),
        ("watched.csv", lambda: b"x" * (10 * 1024 * 1024 + 1), "over 10 MB"),
        ("watched.csv", lambda: "Date,Name,Year\n2020-01-01,Amélie,2001\n".encode("latin-1"), "isn't UTF-8"),
        (
            "watched.csv",
            lambda: csv_bytes(LB_BASIC, [lb_row("2020-01-01", "X", 2000)] * 50_001),
            "more than 50,000 rows",
        ),
        (
            "export.zip",
            lambda: letterboxd_zip(extra={f"extra{n}.csv": b"a\n" for n in range(20)}),
            "more than 20 files",
        ),
        (
            "export.zip",
            lambda: letterboxd_zip(extra={"reviews.csv": b"x" * (51 * 1024 * 1024)}),
            "more than 50 MB",
        ),
        ("export.zip", lambda: b"PK\x03\x04 not really a zip", "isn't a readable ZIP"),
        ("export.zip", lambda: zip_of({"../watched.csv": b"Date,Name,Year\n"}), "has none of"),
    ],
)
async def test_bad_input_is_refused_in_a_short_ephemeral_message_and_imports_nothing(
    bot: Any, emulator: Any, services: Services, filename: str, make: Any, refusal: str
) -> None:
    msg = await answer(emulator, "import", {"file": emulator.attachment(filename, make())}, subcommand="letterboxd")
    assert is_ephemeral(msg) and refusal in msg["content"], msg["content"]
    await nothing_imported(services, refusal)


async def nothing_imported(services: Services, refusal: str | None = None) -> None:
    async with services.db.connection() as conn:
        for table in (*TABLES, "import_rows"):
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
        statuses = [tuple(r) for r in await conn.fetch("SELECT status, error FROM imports")]
    assert all(status == "refused" for status, _ in statuses)
    if refusal:
        assert statuses and refusal in (statuses[0][1] or "")


def zip_of(files: dict[str, bytes]) -> bytes:
    from tests.exports import zip_bytes

    return zip_bytes(files)


async def test_an_attachment_discord_no_longer_serves_is_refused(bot: Any, emulator: Any, services: Services) -> None:
    att = emulator.attachment("watched.csv", csv_bytes(LB_BASIC, [lb_row("2020-01-01", "Silent Harbor", 1990)]))
    emulator.expire_attachment(att)
    msg = await answer(emulator, "import", {"file": att}, subcommand="letterboxd")
    assert is_ephemeral(msg) and "no longer serves that file" in msg["content"]
    await nothing_imported(services)


async def test_a_second_import_while_one_runs_is_told_the_first_is_running(
    bot: Any, emulator: Any, services: Services
) -> None:
    export = csv_bytes(LB_BASIC, [lb_row("2020-01-01", "Silent Harbor", 1990)])
    rec = await emulator.invoke("import", {"file": emulator.attachment("watched.csv", export)}, subcommand="letterboxd")
    await rec.wait_for(lambda: bool(rec.original and rec.original.get("content")), 10, "the first answer")
    msg = await answer(emulator, "import", {"file": emulator.attachment("ratings.csv", export)}, subcommand="imdb")
    assert is_ephemeral(msg) and "Your import from Letterboxd is still running" in msg["content"], msg["content"]


async def test_a_worker_stopped_half_way_resumes_without_asking_tmdb_again(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, redis_url: str
) -> None:
    distinct = tmdb.films[:100]
    export = csv_bytes(LB_BASIC, [lb_row("2020-01-01", f["title"], f["release_date"][:4]) for f in distinct])
    rec = await emulator.invoke("import", {"file": emulator.attachment("watched.csv", export)}, subcommand="letterboxd")
    await rec.wait_for(lambda: bool(rec.original and rec.original.get("content")), 10, "the first answer")
    async with services.db.connection() as conn:
        import_id = await conn.fetchval("SELECT id FROM imports")
    tmdb.latency = 0.02
    job = asyncio.create_task(run_import({"services": services}, import_id))

    async def matched() -> int | None:
        async with services.db.connection() as conn:
            done = await conn.fetchval("SELECT count(*) FROM import_rows WHERE matched")
        return done if done >= 40 else None

    assert await eventually(matched) < 100
    job.cancel()  # the worker stops half way
    await asyncio.gather(job, return_exceptions=True)
    asked = len(tmdb.calls_to("/search/movie"))
    assert asked < 100
    async with services.db.connection() as conn:
        kept = {r["name"] for r in await conn.fetch("SELECT name FROM import_rows WHERE matched")}
    # As a killed worker leaves it: still "running", gone quiet; and Redis lost everything.
    async with services.db.connection() as conn:
        await conn.execute("UPDATE imports SET status = 'running', heartbeat_at = now() - interval '10 minutes'")
    await services.redis.flushdb()
    assert await import_sweep({"services": services}) == 1
    assert await run_import({"services": services}, import_id) == "done: summary sent by DM"
    # What was matched before the stop is never asked again; the rest is asked once at most (a
    # search in flight at the stop may have reached the cache after all).
    again = [c.query["query"] for c in tmdb.calls_to("/search/movie")[asked:]]
    assert len(set(again)) == len(again) <= 100 - len(kept)
    assert not set(again) & {search_text(name) for name in kept}
    assert len((await rows(services, emulator.alice))["watch_history"]) == 100

    assert await deliver_dms(services, emulator) == ["sent"]
    [dm] = emulator.dms(emulator.alice)
    assert "✅ Imported from Letterboxd" in dm["content"] and "Watch history: 100 added" in dm["content"]


async def test_tmdb_down_mid_import_pauses_it_and_it_resumes_when_tmdb_is_back(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    export = csv_bytes(LB_BASIC, [lb_row("2020-01-01", f["title"], f["release_date"][:4]) for f in tmdb.films[:10]])
    rec = await emulator.invoke("import", {"file": emulator.attachment("watched.csv", export)}, subcommand="letterboxd")
    await rec.wait_for(lambda: bool(rec.original and rec.original.get("content")), 10, "the first answer")
    async with services.db.connection() as conn:
        import_id = await conn.fetchval("SELECT id FROM imports")
    tmdb.fail(503, times=1000)
    with pytest.raises(Retry):
        await run_import({"services": services, "job_try": 1}, import_id)
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT status FROM imports") == "queued"  # handed back, to resume
    await nothing_imported_yet(services)
    tmdb.recover()
    assert await run_import({"services": services, "job_try": 2}, import_id) == "done: summary shown"
    assert len((await rows(services, emulator.alice))["watch_history"]) == 10
    assert "Watch history: 10 added" in emulator.message(rec.original["id"])["content"]


async def nothing_imported_yet(services: Services) -> None:
    async with services.db.connection() as conn:
        for table in TABLES:
            assert await conn.fetchval(f"SELECT count(*) FROM {table}") == 0, table
