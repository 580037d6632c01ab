"""/import trakt end to end: the device flow against the fake Trakt (pending, slow_down, approval,
denial), every page read, the hourly sync (a new watch picked up, an unchanged user skipped, a
token refreshed before it expires, a revoked one stopping the sync with one DM), and Disconnect."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.fernet import Fernet

from services.config import Settings
from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.fakes.trakt import FakeTrakt, TraktUser, stamp
from tests.helpers import answer, component, is_ephemeral, visible_answer
from tests.test_alerts import deliver_dms
from worker.imports import run_import


@pytest.fixture
async def trakt() -> AsyncIterator[FakeTrakt]:
    async with FakeTrakt(interval=1, page_size=2) as fake:
        yield fake


@pytest.fixture
def settings(settings: Settings, trakt: FakeTrakt) -> Settings:
    settings.trakt_client_id = trakt.client_id
    settings.trakt_client_secret = trakt.client_secret  # type: ignore[assignment]
    settings.trakt_api_base = trakt.base_url
    settings.marquee_secret_key = Fernet.generate_key().decode()  # type: ignore[assignment]
    return Settings.model_validate(settings.model_dump())


@pytest.fixture
def waits(services: Services) -> list[float]:
    """The device flow's waits, recorded instead of slept."""
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    services.trakt.sleep = record
    return waited


def films(user: TraktUser, tmdb: FakeTMDB) -> None:
    for n, movie_id in enumerate((1000, 1001, 1002, 1003, 1004)):
        film = tmdb.film(movie_id)
        user.watch(movie_id, film["title"], int(film["release_date"][:4]), stamp(f"2024-01-0{n + 1}"))
    user.watch(None, "A Film Without TMDB", 1950, stamp("2024-01-09"))
    user.rate(1000, "Silent Harbor", 1990, 9, stamp("2024-02-01"))
    user.rate(1001, "Crimson Harbor", 1991, 3, stamp("2024-02-01"))
    user.list(1010, "Crimson Signal", 2000, stamp("2024-03-01"))


async def connect(emulator: Any, services: Services, discord_user: Any = None) -> Any:
    """/import trakt, then the worker's job; the record (`extras`: what was shown first, the job's result)."""
    rec = await emulator.invoke("import", {}, subcommand="trakt", user=discord_user)
    await rec.wait_for(lambda: bool(rec.original and rec.original.get("content")), 10, "the code")
    assert is_ephemeral(rec.original)
    async with services.db.connection() as conn:
        import_id = await conn.fetchval("SELECT max(id) FROM imports WHERE source = 'trakt'")
    rec.extras = {"shown": rec.original["content"], "result": await run_import({"services": services}, import_id)}
    return rec


async def history(services: Services, user: Any) -> list[int]:
    async with services.db.connection() as conn:
        rows = await conn.fetch("SELECT movie_id FROM watch_history WHERE discord_id = $1 ORDER BY 1", int(user["id"]))
    return [r["movie_id"] for r in rows]


async def test_the_device_flow_waits_as_trakt_says_then_imports_every_page(
    bot: Any, emulator: Any, services: Services, trakt: FakeTrakt, tmdb: FakeTMDB, waits: list[float]
) -> None:
    ana = trakt.user("ana")
    films(ana, tmdb)
    trakt.login(ana, before=[400, 429, 400])
    rec = await connect(emulator, services)
    assert "https://trakt.tv/activate" in rec.extras["shown"] and "enter the code **" in rec.extras["shown"]
    # Polled at Trakt's interval; after slow_down, 5 seconds more (RFC 8628).
    assert waits == [1, 1, 6, 6]
    text = emulator.message(rec.original["id"])["content"]
    assert "✅ Imported from Trakt" in text and "Watch history: 5 added" in text, text
    assert "Ratings: 2 added" in text and "Watchlist: 1 added" in text, text
    assert "no TMDB id on Trakt: 1" in text, text
    assert await history(services, emulator.alice) == [1000, 1001, 1002, 1003, 1004]
    # Three pages of history at two a page, every one read.
    pages = [c for c in trakt.calls if c[1] == "/sync/history/movies"]
    assert len(pages) == 3
    async with services.db.connection() as conn:
        link = await conn.fetchrow("SELECT access_token, refresh_token FROM trakt_links")
    [token] = trakt.tokens_of(ana)
    assert token not in link["access_token"]  # stored encrypted


@pytest.mark.parametrize(("outcome", "said"), [("deny", "was declined"), ("expire", "code expired")])
async def test_a_declined_or_expired_code_says_so_and_imports_nothing(
    bot: Any, emulator: Any, services: Services, trakt: FakeTrakt, waits: list[float], outcome: str, said: str
) -> None:
    trakt.login(trakt.user("ana"), before=[400], outcome=outcome)
    rec = await connect(emulator, services)
    assert said in emulator.message(rec.original["id"])["content"]
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM trakt_links") == 0
        assert await conn.fetchval("SELECT status FROM imports") == "failed"
    # A new code may be asked for at once.
    trakt.login(trakt.user("ana2"))
    await connect(emulator, services)


async def test_the_hourly_sync_brings_new_watches_and_skips_the_unchanged(
    bot: Any, emulator: Any, services: Services, trakt: FakeTrakt, tmdb: FakeTMDB, waits: list[float]
) -> None:
    ana, bo = trakt.user("ana"), trakt.user("bo")
    films(ana, tmdb)
    bo.watch(1030, tmdb.film(1030)["title"], 2020, stamp("2024-01-01"))
    trakt.login(ana)
    await connect(emulator, services)
    trakt.login(bo)
    await connect(emulator, services, emulator.bob)

    ana.watch(1040, tmdb.film(1040)["title"], 2000, stamp("2030-05-01"))  # after the import
    [bo_token] = trakt.tokens_of(bo)
    before = len(trakt.calls_with(bo_token))
    report = await services.trakt.sync_all()
    assert (report.checked, report.unchanged, report.synced) == (2, 1, 1), report.summary
    assert report.added["watched"] == 1
    assert 1040 in await history(services, emulator.alice)
    assert len(trakt.calls_with(bo_token)) == before + 1  # last_activities only

    again = await services.trakt.sync_all()
    assert (again.unchanged, again.synced) == (2, 0)


async def test_tokens_are_refreshed_before_they_expire_and_a_revoked_one_is_told_once(
    bot: Any, emulator: Any, services: Services, trakt: FakeTrakt, tmdb: FakeTMDB, waits: list[float]
) -> None:
    trakt.token_lifetime = 3600  # well inside the refresh margin
    ana = trakt.user("ana")
    films(ana, tmdb)
    trakt.login(ana)
    await connect(emulator, services)
    [first] = trakt.tokens_of(ana)
    before = len(trakt.calls)
    await services.trakt.sync_all()
    refreshed = trakt.tokens_of(ana)
    assert len(refreshed) == 2 and len(trakt.refresh) == 1  # the old refresh token is spent, the new one kept
    # Refreshed before use: the sync read Trakt with the new token, never the old one.
    used = {token for _, _, token in trakt.calls[before:] if token}
    assert used and first not in used and used <= set(refreshed)
    await services.trakt.sync_all()  # the stored (new) refresh token works: single use respected
    assert len(trakt.tokens_of(ana)) == 3

    ana.revoked = True  # revoked at trakt.tv
    report = await services.trakt.sync_all()
    assert report.broken == 1
    calls = len(trakt.calls)
    assert (await services.trakt.sync_all()).checked == 0 and len(trakt.calls) == calls
    assert await deliver_dms(services, emulator) == ["sent"]
    [dm] = emulator.dms(emulator.alice)
    assert "syncing has stopped" in dm["content"] and "/import trakt" in dm["content"]


async def test_disconnect_revokes_at_trakt_and_deletes_the_token(
    bot: Any, emulator: Any, services: Services, trakt: FakeTrakt, tmdb: FakeTMDB, waits: list[float]
) -> None:
    ana = trakt.user("ana")
    trakt.login(ana)
    await connect(emulator, services)
    [token] = trakt.tokens_of(ana)
    msg = await answer(emulator, "mydata")
    assert "Trakt connected: **yes**" in msg["embeds"][0]["description"]
    done = await emulator.click(msg, component(msg, "marquee:mydata:trakt:")["custom_id"])
    assert "disconnected" in (await visible_answer(done))["content"]
    assert trakt.revoked_tokens == [token]
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM trakt_links") == 0
