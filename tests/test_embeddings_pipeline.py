"""The embedding pipeline against real Redis and PostgreSQL, the official openai client against
the fake embeddings endpoint, and the arq worker where a job runs: batching, dedupe, a crash
mid-batch, idempotency, the sweep, Redis down, and a change of model or size."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import numpy as np
import pytest
from pydantic import SecretStr

from services.config import Settings
from services.db import embeddings as store
from services.embeddings.client import BACKGROUND, Embedder, Space, batches
from services.errors import EmbeddingsUnavailable
from services.runtime import Services, open_services
from tests.conftest import TEST_LLM, TEST_RETRY
from tests.fakes.embeddings import fake_vector
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import eventually
from worker.jobs import embed_pending, embed_sweep
from worker.settings import run_worker

SMALL = Space("text-embedding-3-small", 1536)


async def stored(services: Services, space: Space = SMALL) -> dict[int, str]:
    async with services.db.connection() as conn:
        rows = await conn.fetch(
            "SELECT movie_id, content_hash FROM movie_embeddings WHERE model = $1 AND dimensions = $2",
            space.model,
            space.dimensions,
        )
    return {r["movie_id"]: r["content_hash"] for r in rows}


async def catalogue(services: Services) -> set[int]:
    async with services.db.connection() as conn:
        return {r["id"] for r in await conn.fetch("SELECT id FROM movies")}


def ctx(services: Services, job_try: int = 1) -> dict[str, Any]:
    return {"services": services, "job_try": job_try}


@asynccontextmanager
async def running_worker(services: Services) -> AsyncIterator[None]:
    task = asyncio.create_task(run_worker(services))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_films_browsed_are_embedded_in_batches_by_the_worker(
    services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    for page in (1, 2, 3):
        await services.catalog.browse("now_playing", page)  # 45 films, 3 pages, 3 queue additions
    assert len(await catalogue(services)) == 45
    assert await services.embeddings.queue.pending() == 45
    assert llm.embeddings.calls == []  # the request path never embeds

    async def all_embedded() -> dict[int, str] | None:
        # The worker also warms every list at start: those films enter the catalogue and queue too.
        films = await catalogue(services)
        found = await stored(services)
        return found if len(films) > 45 and set(found) == films else None

    async with running_worker(services):
        found = await eventually(all_embedded, seconds=30)
    calls = llm.embeddings.answered()
    # A burst of films shares a request; every text once; the size asked for.
    assert len(calls) <= 3 and sum(len(c.inputs) for c in calls) == len(found)
    assert all(c.dimensions == 1536 and c.encoding == "base64" for c in calls)
    assert sorted(llm.embeddings.texts()) == sorted(set(llm.embeddings.texts()))
    text = next(t for t in llm.embeddings.texts() if t.startswith(tmdb.films[3]["title"]))
    assert "Genres: Science Fiction, Horror" in text and "Directed by Director 3" in text
    assert "Starring Actor 3-0, Actor 3-1" in text and "Keywords: science fiction, horror, heist" in text
    assert await services.embeddings.queue.pending() == 0
    async with services.db.connection() as conn:
        vector = (await store.vectors_of(conn, SMALL, [1003]))[1003]
    assert np.allclose(vector, fake_vector(text, SMALL.model, 1536), atol=1e-6)
    # The space's HNSW index exists, and the space is the one searches use.
    async with services.db.connection() as conn:
        index = await conn.fetchval("SELECT indexdef FROM pg_indexes WHERE indexname = $1", store.index_name(SMALL))
    assert "hnsw" in index and "halfvec(1536)" in index and "halfvec_cosine_ops" in index
    assert await services.embeddings.active_space() == SMALL


async def test_queueing_twice_makes_one_job_and_embeds_each_text_once(services: Services, llm: FakeOpenAI) -> None:
    await services.catalog.browse("now_playing")
    ids = sorted(await catalogue(services))
    assert await services.embeddings.queue.add(ids)  # again: the same films, the same job id
    queued = await services.redis.queued_jobs()
    assert [j.function for j in queued] == ["embed_pending"]
    assert await embed_pending(ctx(services)) == "embedded 20, unchanged 0, dropped 0"
    assert len(llm.embeddings.answered()) == 1
    # Queued again and run again: the texts are stored, so no request at all.
    await services.embeddings.queue.add(ids)
    assert await embed_pending(ctx(services)) == "embedded 0, unchanged 20, dropped 0"
    assert len(llm.embeddings.answered()) == 1
    assert sorted(await stored(services)) == ids


async def test_a_crash_mid_batch_then_a_rerun_leaves_nothing_missing_or_doubled(
    services: Services, llm: FakeOpenAI
) -> None:
    services.embeddings.batch = 20
    for page in (1, 2, 3):
        await services.catalog.browse("popular", page)
    films = await catalogue(services)
    assert len(films) == 60
    llm.embeddings.fail(500, after=1)  # the first batch goes through, the second fails
    with pytest.raises(EmbeddingsUnavailable):
        await services.embeddings.run_pending()
    assert len(await stored(services)) == 20
    assert await services.embeddings.queue.pending() == 40  # what was not stored stays queued
    report = await services.embeddings.run_pending()
    assert (report.embedded, report.unchanged) == (40, 0)
    assert set(await stored(services)) == films
    texts = llm.embeddings.texts()
    assert len(texts) == 60 == len(set(texts))  # each film's text sent once, the failed batch aside


async def test_a_film_whose_text_changed_at_tmdb_is_embedded_again(
    services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await services.catalog.browse("now_playing")
    await embed_pending(ctx(services))
    before = (await stored(services))[1004]
    await services.catalog.details(1004)  # cached: nothing new from TMDB, nothing queued
    assert await services.embeddings.queue.pending() == 0
    tmdb.films[4]["overview"] = "Rewritten: a lighthouse keeper and the storm of the century."
    await services.redis.flushdb()  # the hour of the cached details is over
    await services.catalog.details(1004)  # a card opened: TMDB sends the details again
    assert await services.embeddings.queue.pending() == 1
    assert await embed_pending(ctx(services)) == "embedded 1, unchanged 0, dropped 0"
    assert (await stored(services))[1004] != before
    assert "lighthouse keeper" in llm.embeddings.texts()[-1]


async def test_a_rate_limit_becomes_a_retry_after_the_wait_the_api_asked(services: Services, llm: FakeOpenAI) -> None:
    from arq import Retry

    await services.catalog.browse("now_playing")
    llm.embeddings.fail(429, retry_after="17")
    with pytest.raises(Retry) as retry:
        await embed_pending(ctx(services))
    assert retry.value.defer_score == 17_000
    llm.embeddings.fail(503, times=1)
    with pytest.raises(Retry) as retry:
        await embed_pending(ctx(services, job_try=3))
    assert retry.value.defer_score == 8_000  # no Retry-After: exponential backoff
    assert await stored(services) == {}
    assert await services.embeddings.queue.pending() == 20
    assert await embed_pending(ctx(services, job_try=4)) == "embedded 20, unchanged 0, dropped 0"


async def test_the_sweep_finds_a_film_whose_job_was_lost(services: Services, llm: FakeOpenAI) -> None:
    await services.catalog.browse("now_playing")
    await services.redis.flushdb()  # the queue and its job are gone
    assert await embed_pending(ctx(services)) == "embedded 0, unchanged 0, dropped 0"
    assert await embed_sweep(ctx(services)) == 20
    assert await embed_pending(ctx(services)) == "embedded 20, unchanged 0, dropped 0"
    assert await embed_sweep(ctx(services)) == 0


async def test_redis_down_when_films_arrive_loses_nothing(
    settings: Settings, services: Services, llm: FakeOpenAI
) -> None:
    dead = settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:1/0")})
    async with open_services(dead, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as cut_off:
        page = await cut_off.catalog.browse("top_rated")  # answers, and stores the films
        assert len(page.results) == 20
        assert not await cut_off.embeddings.queue.add([page.results[0].id])
    assert await services.embeddings.queue.pending() == 0
    # Redis is back (the worker's process has it): the sweep finds them.
    assert await embed_sweep(ctx(services)) == 20
    assert await embed_pending(ctx(services)) == "embedded 20, unchanged 0, dropped 0"


async def test_adult_and_vanished_films_are_dropped_not_retried(
    services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await services.catalog.browse("now_playing")
    await embed_pending(ctx(services))
    assert 1001 in await stored(services)
    tmdb.films[1]["adult"] = True  # the details now say adult
    await services.redis.flushdb()  # no cached details
    async with services.db.transaction() as conn:
        await conn.execute("INSERT INTO movies (id, title) VALUES (99999, 'Gone from TMDB') ON CONFLICT DO NOTHING")
    await services.embeddings.queue.add([99999, *(await catalogue(services))])
    assert await embed_pending(ctx(services)) == "embedded 0, unchanged 19, dropped 2"
    assert 1001 not in await stored(services) and await services.embeddings.queue.pending() == 0
    hits = await services.similarity.semantic(3, tmdb.films[1]["title"])
    assert 1001 not in [h.film.id for h in hits.hits]  # an adult film is never shown


async def test_a_new_size_is_filled_in_the_background_then_takes_over(
    settings: Settings, services: Services, llm: FakeOpenAI
) -> None:
    await services.catalog.browse("now_playing")
    assert await embed_pending(ctx(services)) == "embedded 20, unchanged 0, dropped 0"
    assert await services.embeddings.active_space() == SMALL
    smaller = Space("text-embedding-3-small", 256)
    resized = settings.model_copy(update={"embedding_dimensions": 256})
    async with open_services(resized, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as upgraded:
        upgraded.embeddings.batch = 8
        assert await embed_sweep(ctx(upgraded)) == 20  # the whole catalogue, for the new size
        llm.embeddings.fail(500, after=1)
        with pytest.raises(EmbeddingsUnavailable):
            await upgraded.embeddings.run_pending()
        assert len(await stored(upgraded, smaller)) == 8
        # Half done: every process still searches the old vectors.
        for stack in (services, upgraded):
            assert await stack.embeddings.active_space(fresh=True) == SMALL
        hits = await upgraded.similarity.semantic(7, "crimson heist")
        assert len(hits.hits) == 10
        assert llm.embeddings.answered()[-1].dimensions == 1536  # the query, in the active space
        assert await embed_pending(ctx(upgraded)) == "embedded 12, unchanged 0, dropped 0"
        assert await upgraded.embeddings.active_space() == smaller  # complete: it took over
        await upgraded.similarity.semantic(7, "golden orbit")
        assert llm.embeddings.answered()[-1].dimensions == 256
        async with upgraded.db.connection() as conn:
            index = await conn.fetchval(
                "SELECT indexdef FROM pg_indexes WHERE indexname = $1", store.index_name(smaller)
            )
        assert "halfvec(256)" in index and "dimensions = 256" in index
    assert await services.embeddings.active_space(fresh=True) == smaller
    assert len(await stored(services, SMALL)) == 20  # the old vectors are kept (switching back is free)


async def test_the_client_keeps_within_the_apis_limits(services: Services, llm: FakeOpenAI) -> None:
    embedder = services.embeddings.require()
    texts = [f"film {n} about harbors" for n in range(2500)]
    vectors = await embedder.embed(texts, SMALL, purpose="catalog", policy=BACKGROUND)
    assert vectors.shape == (2500, 1536) and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    assert [len(c.inputs) for c in llm.embeddings.answered()] == [2048, 452]
    long = ["word " * 20_000] * 3  # each ~100k bytes: clamped; then the 300k-token limit splits them
    assert [s.stop - s.start for s in batches(["x" * 500_000, "y" * 500_000, "z"])] == [1, 2]
    await embedder.embed(long, SMALL, purpose="catalog", policy=BACKGROUND)
    assert llm.embeddings.answered()[-1].status == 200


async def test_the_client_reads_floats_too_and_refuses_a_malformed_answer(services: Services, llm: FakeOpenAI) -> None:
    async with aiohttp.ClientSession() as http:
        body = {"model": SMALL.model, "input": ["heist at midnight"], "dimensions": 8, "encoding_format": "float"}
        headers = {"Authorization": f"Bearer {llm.api_key}"}
        async with http.post(f"{llm.base_url}/embeddings", json=body, headers=headers) as resp:
            floats = (await resp.json())["data"][0]["embedding"]
        body["encoding_format"] = "base64"
        async with http.post(f"{llm.base_url}/embeddings", json=body, headers=headers) as resp:
            encoded = (await resp.json())["data"][0]["embedding"]
        assert np.allclose(floats, np.frombuffer(base64.b64decode(encoded), "<f4"))
        body.update(input=[""])
        async with http.post(f"{llm.base_url}/embeddings", json=body, headers=headers) as resp:
            assert resp.status == 400
        body.update(input=["x"] * 2049)
        async with http.post(f"{llm.base_url}/embeddings", json=body, headers=headers) as resp:
            assert resp.status == 400
        body.update(input=["x"], model="text-embedding-ada-002")
        async with http.post(f"{llm.base_url}/embeddings", json=body, headers=headers) as resp:
            assert resp.status == 400 and "dimensions" in (await resp.json())["error"]["message"]
    wrong = Embedder(services.embeddings.require().client, services.metrics)
    with pytest.raises(EmbeddingsUnavailable):
        await wrong.embed(["x"], Space("no-such-model", 8), purpose="query")


def similarity_order(vectors: Sequence[np.ndarray], query: np.ndarray) -> list[int]:
    return sorted(range(len(vectors)), key=lambda i: -float(vectors[i] @ query))


def test_the_fake_vectors_mean_something() -> None:
    films = ["A heist at the harbor", "Harbor heist: the return", "A quiet garden in summer"]
    vectors = [fake_vector(t, SMALL.model, 1536) for t in films]
    query = fake_vector("heist harbor", SMALL.model, 1536)
    assert similarity_order(vectors, query)[2] == 2
    other_model = fake_vector("heist harbor", "text-embedding-3-large", 1536)
    assert abs(float(other_model @ query)) < 0.2  # different models do not compare


def without_index(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in item.items() if k != "index"} for item in items]


def repeated_index(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "index": 0} for item in items]


def skipped_index(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**item, "index": i + 1 if i else 0} for i, item in enumerate(items)]  # 0, 2, 3, ... one past the end


@pytest.mark.parametrize("tamper", [without_index, repeated_index, skipped_index])
async def test_an_answer_with_bad_indexes_is_a_bad_answer_and_the_job_is_retried(
    services: Services, llm: FakeOpenAI, tamper: Any
) -> None:
    from arq import Retry

    await services.catalog.browse("now_playing")
    llm.embeddings.tamper = tamper
    with pytest.raises(Retry):
        await embed_pending(ctx(services))
    assert await stored(services) == {} and await services.embeddings.queue.pending() == 20
    llm.embeddings.tamper = None
    assert await embed_pending(ctx(services, job_try=2)) == "embedded 20, unchanged 0, dropped 0"
