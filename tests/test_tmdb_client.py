"""The TMDB client against the fake TMDB: parsing, retries, Retry-After, timeouts, the cache."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from services.errors import MovieNotFound, TMDBAuthError, TMDBUnavailable
from services.runtime import Services
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import sample


async def test_lists_details_and_reference_data_are_parsed(services: Services, tmdb: FakeTMDB) -> None:
    page = (await services.tmdb.movie_list("now_playing", 2)).data
    assert page.page == 2 and page.total_pages == 3 and page.total_results == 45
    assert [f.id for f in page.results] == [f["id"] for f in tmdb.films[20:40]]
    assert tmdb.calls_to("/movie/now_playing")[0].query == {"page": "2", "region": "US", "language": "en-US"}

    details = (await services.tmdb.details(1003)).data
    assert details.title == tmdb.films[3]["title"] and details.runtime == 88
    assert details.directors == ("Director 3",) and details.in_region("US").certification == "PG-13"
    assert details.trailer is not None and details.trailer.key == "trailer3"
    assert [p.name for p in details.in_region("US").providers.rent] == ["RentAll"]
    # Every region in the one answer: GB's own certification, offers and date (cinemas, not digital).
    gb = details.in_region("GB")
    assert gb.certification == "15" and [p.name for p in gb.providers.rent] == ["Sky Store"]
    assert gb.release_date == date.fromisoformat(tmdb.films[3]["release_date"]) + timedelta(days=30)
    assert details.in_region("FR").providers.empty and details.in_region("FR").release_date is None
    assert (
        tmdb.calls_to("/movie/1003")[0].query["append_to_response"]
        == "videos,credits,watch/providers,release_dates,external_ids,keywords"
    )
    assert details.keywords == ("science fiction", "horror", "heist")  # what embeddings are made from, too

    assert (await services.tmdb.genres())[878] == "Science Fiction"
    images = await services.tmdb.image_config()
    assert images.poster("/x.jpg") == "https://image.tmdb.org/t/p/w500/x.jpg"


async def test_search_sends_no_adult_and_the_year(services: Services, tmdb: FakeTMDB) -> None:
    await services.tmdb.search("echo", year=2001)
    assert tmdb.calls_to("/search/movie")[0].query == {
        "query": "echo",
        "year": "2001",
        "page": "1",
        "include_adult": "false",
        "language": "en-US",
    }


async def test_a_server_error_is_retried(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.fail(500, times=2)
    page = (await services.tmdb.movie_list("popular")).data
    assert len(page.results) == 20
    assert [c.status for c in tmdb.calls_to("/movie/popular")] == [500, 500, 200]


async def test_retry_after_is_honoured(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.fail(429, times=1, retry_after="1")
    await services.tmdb.movie_list("upcoming")
    first, second = tmdb.calls_to("/movie/upcoming")
    assert (first.status, second.status) == (429, 200)
    assert second.at - first.at >= 0.95  # waited what TMDB asked, not the 10 ms test backoff


async def test_a_long_retry_after_is_reported_not_waited(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.fail(429, times=5, retry_after="60")
    with pytest.raises(TMDBUnavailable) as caught:
        await services.tmdb.movie_list("upcoming")
    assert caught.value.retry_after == 60
    assert len(tmdb.calls_to("/movie/upcoming")) == 1


async def test_tmdb_that_stays_down_is_a_domain_error(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.fail(503, times=10)
    with pytest.raises(TMDBUnavailable, match="HTTP 503"):
        await services.tmdb.movie_list("popular")
    assert len(tmdb.calls_to("/movie/popular")) == 3  # bounded


async def test_slow_tmdb_times_out(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.latency = 1.5  # the test policy's timeout is 1 s
    with pytest.raises(TMDBUnavailable, match="timed out"):
        await services.tmdb.details(1001)


async def test_refused_token_and_unknown_film(services: Services, tmdb: FakeTMDB) -> None:
    with pytest.raises(MovieNotFound):
        await services.tmdb.details(99999)
    tmdb.token = "another-token"
    with pytest.raises(TMDBAuthError):
        await services.tmdb.movie_list("top_rated")
    assert len(tmdb.calls_to("/movie/top_rated")) == 1  # a refused token is not retried


async def test_concurrent_cold_requests_make_one_call(services: Services, tmdb: FakeTMDB) -> None:
    tmdb.latency = 0.2
    pages = await asyncio.gather(*(services.catalog.browse("trending") for _ in range(100)))
    assert len(tmdb.calls_to("/trending/movie/week")) == 1
    assert {p.results[0].id for p in pages} == {tmdb.lists()["trending"][0]["id"]}
    await services.catalog.browse("trending")  # warm: served by Redis
    assert len(tmdb.calls_to("/trending/movie/week")) == 1
    assert sample(services.metrics, "marquee_cache_total", result="hit") >= 1


async def test_films_seen_are_stored(services: Services, tmdb: FakeTMDB) -> None:
    await services.catalog.browse("upcoming")
    await services.catalog.details(1005)
    async with services.db.connection() as conn:
        count = await conn.fetchval("SELECT count(*) FROM movies")
        runtime = await conn.fetchval("SELECT runtime FROM movies WHERE id = 1005")
    assert count == 21 and runtime == 90


async def test_reference_data_is_held_in_process(services: Services, tmdb: FakeTMDB) -> None:
    await services.tmdb.genres()
    await services.tmdb.image_config()
    lookups = sum(sample(services.metrics, "marquee_cache_total", result=r) for r in ("hit", "miss", "error"))
    for _ in range(3):
        await services.tmdb.genres()
        await services.tmdb.image_config()
    assert (
        sum(sample(services.metrics, "marquee_cache_total", result=r) for r in ("hit", "miss", "error")) == lookups
    )  # no Redis trips
    assert len(tmdb.calls_to("/genre/movie/list")) == 1 and len(tmdb.calls_to("/configuration")) == 1


async def test_region_and_language_travel_with_each_call(services: Services, tmdb: FakeTMDB) -> None:
    await services.tmdb.movie_list("now_playing", 1, region="GB", language="fr-FR")
    assert tmdb.calls_to("/movie/now_playing")[-1].query == {"page": "1", "region": "GB", "language": "fr-FR"}
    await services.tmdb.details(1003)
    await services.tmdb.details(1003, language="fr-FR")  # cached apart, per language
    await services.tmdb.details(1003)  # cached: every region is in the one answer
    assert [c.query["language"] for c in tmdb.calls_to("/movie/1003")] == ["en-US", "fr-FR"]
    await services.tmdb.search("echo", language="de-DE")
    assert tmdb.calls_to("/search/movie")[-1].query["language"] == "de-DE"
