"""/similar, /semantic and the card's Similar button end to end: the real bot against the
emulator, the official openai client against the fake embeddings endpoint, pgvector in the real
PostgreSQL, the fake TMDB."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest
from pydantic import SecretStr

from services.ai.matching import Pick
from services.config import Settings
from services.db import embeddings as store
from services.embeddings.client import Space
from services.embeddings.search import rank_by_taste
from services.runtime import Services, open_services
from tests.billing_env import billing_loop
from tests.conftest import TEST_LLM, TEST_RETRY, connected_bot
from tests.fakes.embeddings import fake_vector
from tests.fakes.openai import FakeOpenAI
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, embed, is_ephemeral, label, visible_answer
from tests.test_billing import upgrade
from tests.test_embeddings_pipeline import without_index
from tests.test_foryou_history import watch
from worker.jobs import embed_pending


async def embed_catalogue(services: Services, kind: str = "popular", pages: int = 6) -> None:
    """Films into the catalogue by browsing, then the worker's job, run here."""
    for page in range(1, pages + 1):
        await services.catalog.browse(kind, page)
    result = await embed_pending({"services": services, "job_try": 1})
    assert result.startswith("embedded"), result


async def vectors(services: Services, ids: list[int] | None = None) -> dict[int, np.ndarray]:
    space = await services.embeddings.active_space()
    async with services.db.connection() as conn:
        if ids is None:
            ids = [r["movie_id"] for r in await conn.fetch("SELECT movie_id FROM movie_embeddings")]
        return await store.vectors_of(conn, space, ids)


async def exact_nearest(services: Services, query: np.ndarray, exclude: set[int], k: int = 10) -> list[int]:
    """What an exact search (every vector compared, no index) ranks first."""
    known = await vectors(services)
    scores = {i: float(v @ query) for i, v in known.items() if i not in exclude}
    return sorted(scores, key=lambda i: (-scores[i], i))[:k]


def listed(msg: dict[str, Any]) -> list[int]:
    return [int(o["value"]) for o in component(msg, "marquee:open:")["options"]]


def query_calls(llm: FakeOpenAI, text: str) -> int:
    return sum(1 for c in llm.embeddings.answered() if c.inputs == [text])


async def history_rows(services: Services) -> list[tuple[str, str, list[int]]]:
    async with services.db.connection() as conn:
        rows = await conn.fetch("SELECT kind, query, movie_ids FROM search_history ORDER BY id")
    return [(r["kind"], r["query"], list(r["movie_ids"])) for r in rows]


SMALL_SPACE = Space("text-embedding-3-small", 1536)
# Films i and j of the fake catalogue share a title word, a theme and genres when i ≡ j (mod 30).
KIN_OF_1005 = {1035, 1065, 1095}


async def test_similar_shows_the_nearest_films_never_a_watched_one(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services)
    msg = await answer(emulator, "similar", {"title": "1005"})
    assert not is_ephemeral(msg)
    shown = embed(msg)
    assert shown["title"] == f"Films like {label(tmdb.film(1005))}"
    assert shown["footer"]["text"].startswith("Nearest by meaning first (AI embeddings) · 10 films")
    ids = listed(msg)
    assert len(ids) == 10 and 1005 not in ids and set(ids[:3]) == KIN_OF_1005
    assert (
        label(tmdb.film(ids[0])) in shown["description"] and "%" not in shown["description"]
    )  # the rank, no raw cosine

    await watch(services, emulator.alice, tmdb.film(1035), tmdb.film(1065))
    again = await answer(emulator, "similar", {"title": "1005"})
    ids = listed(again)
    assert len(ids) == 10 and not {1035, 1065} & set(ids) and ids[0] == 1095  # a full page still

    pick = await emulator.select(again, component(again, "marquee:open:")["custom_id"], ["1095"])
    assert embed(await visible_answer(pick))["title"] == label(tmdb.film(1095))


async def test_a_film_browsed_joins_similar_once_its_job_ran(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services, "now_playing", 3)  # films 1000-1044
    assert not set(listed(await answer(emulator, "similar", {"title": "1005"}))) & {1065, 1095}
    await services.catalog.browse("upcoming", 1)  # films 1090-1109 enter the catalogue, queued
    assert not set(listed(await answer(emulator, "similar", {"title": "1005"}))) & {1095}  # not embedded yet
    assert await embed_pending({"services": services, "job_try": 1}) == "embedded 20, unchanged 0, dropped 0"
    assert set(listed(await answer(emulator, "similar", {"title": "1005"}))[:2]) == {1035, 1095}


async def test_similar_embeds_a_film_on_the_spot_and_falls_back_to_tmdb_when_it_cannot(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    await embed_catalogue(services, "now_playing", 3)  # 1005 has no kin here but 1035
    await services.catalog.details(1065)  # in the catalogue now, and queued, but not embedded
    msg = await answer(emulator, "similar", {"title": "1065"})
    assert embed(msg)["footer"]["text"].startswith("Nearest by meaning")
    assert set(listed(msg)[:2]) == {1005, 1035}
    assert llm.embeddings.answered()[-1].inputs[0].startswith(tmdb.film(1065)["title"])

    await services.catalog.details(1095)
    llm.embeddings.fail(500, times=3)
    msg = await answer(emulator, "similar", {"title": "1095"})
    assert not is_ephemeral(msg)
    assert embed(msg)["footer"]["text"] == "TMDB's recommendations: the AI couldn't be reached just now · Data: TMDB"
    expected = [f["id"] for f in tmdb.recommended(1095)][:10]
    assert listed(msg) == expected and "%" not in embed(msg)["description"]


@pytest.fixture
async def ai_off(settings: Settings) -> AsyncIterator[Services]:
    off = settings.model_copy(update={"openai_api_key": None})
    async with open_services(off, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services:
        yield services


async def test_with_ai_off_similar_is_tmdbs_recommendations_and_semantic_says_so(
    ai_off: Services, emulator: Any, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    async with connected_bot(ai_off, emulator):
        await watch(ai_off, emulator.alice, tmdb.film(tmdb.recommended(1005)[0]["id"]))
        msg = await answer(emulator, "similar", {"title": "1005"})
        assert embed(msg)["footer"]["text"] == "TMDB's recommendations: AI similarity is off on this bot · Data: TMDB"
        assert listed(msg) == [f["id"] for f in tmdb.recommended(1005)][1:11]  # the watched one left out
        rec = await emulator.invoke("semantic", {"query": "films about obsession"})
        assert await rec.wait_callback() == 4  # answered at once, no "thinking…"
        msg = await visible_answer(rec)
        assert is_ephemeral(msg) and msg["content"].startswith("AI features are not configured on this bot")
    assert llm.embeddings.calls == [] and await ai_off.embeddings.queue.pending() == 0


async def test_the_cards_similar_button_shows_the_list_to_whoever_clicks(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services)
    card = await answer(emulator, "movie", {"title": "1005"})
    button = component(card, "marquee:similar:1005")
    assert button["label"] == "Similar"
    click = await emulator.click(card, button["custom_id"], user=emulator.bob)
    msg = await visible_answer(click)
    assert is_ephemeral(msg) and embed(msg)["title"] == f"Films like {label(tmdb.film(1005))}"
    assert set(listed(msg)[:3]) == KIN_OF_1005


async def test_semantic_finds_films_by_meaning_caches_the_query_and_saves_the_search(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    await embed_catalogue(services)
    msg = await answer(emulator, "semantic", {"query": "a Crimson HEIST"})
    assert not is_ephemeral(msg)
    shown = embed(msg)
    assert shown["title"] == "Films about “a Crimson HEIST”"
    ids = listed(msg)
    query = fake_vector("a crimson heist", "text-embedding-3-small", 1536)  # what was embedded: normalised text
    assert ids == await exact_nearest(services, query, set())
    assert tmdb.film(1031)["title"] == "Crimson Heist" and 1031 in ids
    assert "%" not in shown["description"] and "nearest first" in shown["footer"]["text"]
    assert await history_rows(services) == [("semantic", "a Crimson HEIST", ids)]
    await answer(emulator, "semantic", {"query": "a crimson heist!"}, user=emulator.bob)
    assert query_calls(llm, "a crimson heist") == 1  # normalised, embedded once, then cached

    past = await answer(emulator, "history", user=emulator.bob)
    rerun = await emulator.click(past, component(past, "marquee:rerun:")["custom_id"], user=emulator.bob)
    again = await visible_answer(rerun)
    assert is_ephemeral(again) and listed(again) == ids


async def test_semantic_never_shows_a_watched_film_and_still_fills_the_page(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services)
    first = listed(await answer(emulator, "semantic", {"query": "crimson heist"}))
    await watch(services, emulator.alice, *(tmdb.film(i) for i in first))  # every film it showed
    again = listed(await answer(emulator, "semantic", {"query": "crimson heist"}))
    assert len(again) == 10 and not set(again) & set(first)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("   ", "Type a few words to search for."),
        ("x" * 1000, "keep it under 200"),
        ("🎬🍿🎥 !!", "Describe what you're after in a few words"),
    ],
)
async def test_bad_semantic_queries_get_a_clear_answer_and_change_nothing(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, query: str, expected: str
) -> None:
    await embed_catalogue(services, "now_playing", 1)
    before = len(llm.embeddings.calls)
    msg = await answer(emulator, "semantic", {"query": query})
    assert is_ephemeral(msg) and expected in msg["content"] and len(msg["content"]) < 120
    assert len(llm.embeddings.calls) == before and await history_rows(services) == []


async def test_sql_looking_text_is_only_text(bot: Any, emulator: Any, services: Services) -> None:
    await embed_catalogue(services, "now_playing", 1)
    query = "'; DROP TABLE movies; -- harbor"
    msg = await answer(emulator, "semantic", {"query": query})
    assert not is_ephemeral(msg) and len(listed(msg)) == 10
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM movies") == 20
    assert (await history_rows(services))[0][:2] == ("semantic", query)


async def test_semantic_before_anything_is_embedded_says_why(bot: Any, emulator: Any) -> None:
    msg = await answer(emulator, "semantic", {"query": "films about obsession"})
    assert is_ephemeral(msg) and "isn't indexed for search by meaning yet" in msg["content"]


async def test_semantic_is_pro_only_when_billing_is_on(
    settings: Settings, stripe_api: FakeStripe, emulator: Any, llm: FakeOpenAI
) -> None:
    async with billing_loop(settings, stripe_api, emulator, worker=False) as loop:
        await embed_catalogue(loop.services, "now_playing", 1)
        before = len(llm.embeddings.calls)
        msg = await answer(emulator, "semantic", {"query": "films about obsession"})
        assert is_ephemeral(msg) and msg["content"].startswith("`/semantic` is part of Marquee Pro. `/upgrade`")
        assert len(llm.embeddings.calls) == before and await history_rows(loop.services) == []
        session_id = await upgrade(emulator, loop, emulator.alice)
        await loop.send(*stripe_api.complete_checkout(session_id))
        msg = await answer(emulator, "semantic", {"query": "films about obsession"})
        assert not is_ephemeral(msg) and len(listed(msg)) == 10
        # Bob searched by meaning while he had Pro; now free, his /history cannot run it again.
        async with loop.services.db.transaction() as conn:
            await conn.execute("INSERT INTO users (discord_id) VALUES ($1)", int(emulator.bob["id"]))
            await conn.execute(
                "INSERT INTO search_history (discord_id, kind, query) VALUES ($1, 'semantic', 'heists')",
                int(emulator.bob["id"]),
            )
        past = await answer(emulator, "history", user=emulator.bob)
        rerun = await emulator.click(past, component(past, "marquee:rerun:")["custom_id"], user=emulator.bob)
        refused = await visible_answer(rerun)
        assert is_ephemeral(refused) and refused["content"].startswith("`/semantic` is part of Marquee Pro")


async def test_foryou_ranks_picks_by_the_watched_films_centroid(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    await embed_catalogue(services)
    watched = [tmdb.film(1005), tmdb.film(1035)]
    await watch(services, emulator.alice, *watched)
    llm.include = [(tmdb.film(i)["title"], int(tmdb.film(i)["release_date"][:4])) for i in (1002, 1065)]
    msg = await answer(emulator, "foryou")
    order = listed(msg)
    assert not set(order) & {1005, 1035} and {1002, 1065} <= set(order)
    known = await vectors(services, [1005, 1035, *order])
    centroid = (known[1005] + known[1035]) / 2
    assert order == sorted(order, key=lambda i: -float(known[i] @ centroid))  # nearest their taste first
    assert order[0] in KIN_OF_1005


def test_rank_by_taste_orders_by_the_centroid_and_drops_near_duplicates() -> None:
    from services.tmdb.models import MovieSummary

    rng = np.random.default_rng(7)
    seen = rng.normal(size=(2, 64)).astype(np.float32)
    seen /= np.linalg.norm(seen, axis=1, keepdims=True)
    near = seen.mean(axis=0) + rng.normal(scale=0.2, size=64)
    far = rng.normal(size=64)
    picks = [Pick(MovieSummary(id=i, title=f"Film {i}"), "") for i in (1, 2, 3, 4)]
    known = {1: far.astype(np.float32), 2: near.astype(np.float32), 3: seen[0] * 3}  # 3: a watched film again
    ranked = rank_by_taste(picks, seen, known)
    assert [p.film.id for p in ranked] == [2, 1, 4]  # 4 has no vector: kept, after the known ones


def test_rank_by_taste_pushes_picks_near_disliked_films_down() -> None:
    from services.tmdb.models import MovieSummary

    rng = np.random.default_rng(11)
    liked, disliked = rng.normal(size=(1, 64)).astype(np.float32), rng.normal(size=(1, 64)).astype(np.float32)
    # Film 1 is the nearer to what was liked, but it is also near what was 👎'd; film 2 is not.
    toward = liked[0] + rng.normal(scale=0.5, size=64)
    both = liked[0] + disliked[0] * 0.3 + rng.normal(scale=0.01, size=64)
    picks = [Pick(MovieSummary(id=i, title=f"Film {i}"), "") for i in (1, 2)]
    known = {1: both.astype(np.float32), 2: toward.astype(np.float32)}
    assert rank_by_taste(picks, liked, known)[0].film.id == 1  # without the 👎: nearer the liked
    assert [p.film.id for p in rank_by_taste(picks, liked, known, disliked=disliked)] == [2, 1]


async def test_a_secret_never_reaches_the_logs(
    bot: Any, emulator: Any, services: Services, caplog: pytest.LogCaptureFixture, llm: FakeOpenAI
) -> None:
    caplog.set_level(logging.INFO)
    await embed_catalogue(services, "now_playing", 1)
    await answer(emulator, "semantic", {"query": "films about obsession"})
    assert llm.api_key not in caplog.text and "embeddings call model=text-embedding-3-small" in caplog.text
    assert isinstance(services.settings.openai_api_key, SecretStr) and llm.api_key not in repr(services.settings)


async def test_a_year_filter_still_fills_the_page_and_keeps_out_watched_films(
    services: Services, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services)
    in_years = {f["id"] for f in tmdb.films if 2000 <= int(f["release_date"][:4]) <= 2009}
    watched = sorted(in_years)[:15]  # most of the decade's nearest are watched
    query = fake_vector("crimson heist", "text-embedding-3-small", 1536)
    filters = store.Filters(exclude=tuple(watched), year_from=2000, year_to=2009)
    async with services.db.connection() as conn:
        found = [n.movie_id for n in await store.nearest(conn, SMALL_SPACE, query, filters, 10)]
    assert len(found) == 10 and set(found) <= in_years - set(watched)
    allowed = in_years - set(watched)
    assert found == [i for i in await exact_nearest(services, query, set(), k=120) if i in allowed][:10]


async def test_an_embeddings_answer_without_indexes_gets_the_fallbacks_not_an_error(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, llm: FakeOpenAI
) -> None:
    await embed_catalogue(services, "now_playing", 1)
    await services.catalog.details(1065)  # in the catalogue, not embedded: /similar must embed it
    llm.embeddings.tamper = without_index
    similar = await answer(emulator, "similar", {"title": "1065"})
    assert not is_ephemeral(similar)
    assert embed(similar)["footer"]["text"].startswith("TMDB's recommendations: the AI couldn't be reached")
    semantic = await answer(emulator, "semantic", {"query": "films about harbors"})
    assert is_ephemeral(semantic) and semantic["content"] == "The AI isn't answering right now. Try again in a minute."
    assert await history_rows(services) == []
