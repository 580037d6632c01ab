"""`marquee catalog sync` against the fake TMDB, real PostgreSQL and Redis: broad (every list,
then each genre in each decade), queued for embedding, and resumable."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

from services.catalog_sync import CatalogSync, SyncReport, sources
from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import GENRES, FakeTMDB
from tests.helpers import sample
from tests.process import MarqueeProcess, stores_env


def fetched(tmdb: FakeTMDB) -> Counter[tuple[str, tuple[tuple[str, str], ...]]]:
    return Counter((c.path, tuple(sorted(c.query.items()))) for c in tmdb.calls if c.status == 200)


async def recorded(services: Services) -> int:
    async with services.db.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM catalog_sync_pages"))


def test_sources_cover_every_list_and_each_genre_in_each_decade() -> None:
    from datetime import date

    found = sources(list(GENRES), today=date(2026, 12, 1))
    assert [s.name for s in found[:5]] == ["now_playing", "popular", "top_rated", "upcoming", "trending"]
    assert len(found) == 5 + 8 * len(GENRES)  # the 1950s to the 2020s
    assert dict(found[5].filters) == {
        "with_genres": "18",
        "primary_release_date.gte": "1950-01-01",
        "primary_release_date.lte": "1959-12-31",
    }


async def test_a_sync_stopped_half_way_resumes_and_fetches_nothing_twice(
    services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    sync = CatalogSync(services.catalog, services.db)
    task: asyncio.Task[SyncReport] | None = None

    def stop_half_way(report: SyncReport) -> None:
        if report.pages >= 12 and task is not None:
            task.cancel()  # what Ctrl+C does to the command

    task = asyncio.create_task(sync.run(3, stop_half_way))
    await asyncio.gather(task, return_exceptions=True)
    assert task.cancelled()
    first = await recorded(services)
    assert 12 <= first < 40

    report = await sync.run(3)
    assert report.failed == 0 and report.skipped >= first
    assert all(n == 1 for n in fetched(tmdb).values()), [k for k, n in fetched(tmdb).items() if n > 1]
    async with services.db.connection() as conn:
        films = await conn.fetchval("SELECT count(*) FROM movies")
        discovered = await conn.fetchval("SELECT count(DISTINCT source) FROM catalog_sync_pages")
    assert films == len(tmdb.films)  # every decade and genre: the whole (fake) catalogue
    assert discovered == len(sources(list(GENRES)))
    assert await services.embeddings.queue.pending() == films  # queued for the worker

    again = await sync.run(3)
    assert (again.pages, again.new_films) == (0, 0) and again.skipped == len(sources(list(GENRES))) * 3


async def test_a_page_tmdb_refuses_is_left_for_the_next_run(services: Services, tmdb: FakeTMDB) -> None:
    sync = CatalogSync(services.catalog, services.db)
    tmdb.broken[("/movie/top_rated", 1)] = 503  # whatever the retries
    report = await sync.run(1)
    assert report.failed == 1 and report.pages == len(sources(list(GENRES))) - 1
    del tmdb.broken[("/movie/top_rated", 1)]
    report = await sync.run(1)
    assert (report.failed, report.pages) == (0, 1)


async def test_the_command_logs_progress_and_resumes(
    tmp_path: Path, tmdb: FakeTMDB, llm: FakeOpenAI, database_url: str, redis_url: str
) -> None:
    env = stores_env(tmdb, database_url, redis_url, OPENAI_API_KEY=llm.api_key, OPENAI_BASE_URL=llm.base_url)
    proc = await MarqueeProcess(["catalog", "sync", "--pages", "2"], env, tmp_path).start()
    assert await proc.wait(120) == 0, proc.output()
    out = proc.output()
    total = len(sources(list(GENRES))) * 2
    lines = [line for line in out.splitlines() if f"/{total} pages" in line]
    assert 5 <= len(lines) <= 11 and lines[-1].endswith(f"catalog sync: {total}/{total} pages, 120 new films")
    assert "new films, queued for embedding (the worker embeds them)" in out
    assert llm.api_key not in out and tmdb.token not in out
    proc = await MarqueeProcess(["catalog", "sync", "--pages", "2"], env, tmp_path).start()
    assert await proc.wait(120) == 0
    assert f"0 pages fetched, {total} already synced or past the last page, 0 failed; 0 new films" in proc.output()
    proc = await MarqueeProcess(["catalog", "sync", "--pages", "0"], env, tmp_path).start()
    assert await proc.wait(60) == 2 and "--pages goes from 1 to 500" in proc.output()


async def test_the_pages_after_a_refused_one_wait_for_the_next_run(services: Services, tmdb: FakeTMDB) -> None:
    sync = CatalogSync(services.catalog, services.db)
    tmdb.broken[("/movie/popular", 1)] = 503
    report = await sync.run(3)
    assert (report.failed, report.waiting) == (1, 2)  # popular's pages 2 and 3 are not asked for
    assert [c for c in tmdb.calls_to("/movie/popular") if c.query["page"] != "1"] == []
    assert report.done == report.planned
    del tmdb.broken[("/movie/popular", 1)]
    report = await sync.run(3)
    assert (report.pages, report.failed, report.waiting) == (3, 0, 0)


async def refuse_film(services: Services, movie_id: int, sqlstate: str) -> None:
    """Make the real database refuse to store one film, with a real error of its own."""
    async with services.db.connection() as conn:
        await conn.execute(
            f"""
            CREATE FUNCTION refuse_film() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.id = {movie_id} THEN RAISE EXCEPTION 'refused for the test' USING ERRCODE = '{sqlstate}'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER refuse_film BEFORE INSERT OR UPDATE ON movies FOR EACH ROW EXECUTE FUNCTION refuse_film();
            """
        )


async def allow_films(services: Services) -> None:
    async with services.db.connection() as conn:
        await conn.execute("DROP TRIGGER refuse_film ON movies; DROP FUNCTION refuse_film()")


async def stored_ids(services: Services) -> set[int]:
    async with services.db.connection() as conn:
        return {r["id"] for r in await conn.fetch("SELECT id FROM movies")}


async def test_a_page_the_database_refuses_stays_pending_and_the_next_run_stores_it(
    services: Services, tmdb: FakeTMDB
) -> None:
    sync = CatalogSync(services.catalog, services.db)
    film = tmdb.lists()["now_playing"][0]["id"]
    await refuse_film(services, film, "40P01")  # deadlock_detected: the page's store fails whole
    report = await sync.run(1)
    assert report.failed >= 1 and film not in await stored_ids(services)
    async with services.db.connection() as conn:
        assert not await conn.fetchval("SELECT count(*) FROM catalog_sync_pages WHERE source = 'now_playing'")
    await allow_films(services)
    again = await sync.run(1)
    assert (again.failed, again.pages) == (0, report.failed)  # only the pending pages, fetched again
    first_page = {f["id"] for f in tmdb.lists()["now_playing"][:20]}
    assert first_page <= await stored_ids(services)


async def test_one_bad_film_does_not_sink_its_page(services: Services, tmdb: FakeTMDB) -> None:
    sync = CatalogSync(services.catalog, services.db)
    absurd = tmdb.lists()["now_playing"][1]
    absurd.update(vote_count=10**12, runtime=10**9, popularity=float("inf"), genre_ids=[18, 2**40])
    refused = tmdb.lists()["now_playing"][2]["id"]
    await refuse_film(services, refused, "22003")  # numeric_value_out_of_range, for that row alone
    report = await sync.run(1)
    assert report.failed == 0
    stored = await stored_ids(services)
    first_page = {f["id"] for f in tmdb.lists()["now_playing"][:20]}
    assert first_page - stored == {refused}  # the rest of its page is stored, the absurd film too
    async with services.db.connection() as conn:
        row = await conn.fetchrow("SELECT vote_count, popularity, genre_ids FROM movies WHERE id = $1", absurd["id"])
    assert (row["vote_count"], row["popularity"], row["genre_ids"]) == (0, 0.0, [18])
    assert sample(services.metrics, "marquee_tmdb_bad_data_total") >= 3  # vote count, popularity, genre id


async def test_the_command_says_what_stays_pending_and_exits_non_zero(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str
) -> None:
    tmdb.broken[("/movie/popular", 1)] = 503
    env = stores_env(tmdb, database_url, redis_url)
    proc = await MarqueeProcess(["catalog", "sync", "--pages", "1"], env, tmp_path).start()
    assert await proc.wait(120) == 1
    assert "1 pages could not be fetched or stored and stay pending: run it again to fetch them" in proc.output()
