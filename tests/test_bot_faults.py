"""Faults injected under the running bot: each reaches the user as a short ephemeral message,
changes nothing, and the bot keeps answering."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, embed, is_ephemeral, label, sample, visible_answer


async def search_count(services: Services) -> int:
    async with services.db.connection() as conn:
        return int(await conn.fetchval("SELECT count(*) FROM search_history"))


@pytest.mark.parametrize(
    ("options", "expected"),
    [({"query": "   "}, "Type a few words to search for."), ({"query": "x" * 500}, "keep it under 200")],
)
async def test_bad_search_input_is_refused_and_changes_nothing(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB, options: dict[str, Any], expected: str
) -> None:
    msg = await answer(emulator, "search", options)
    assert is_ephemeral(msg) and expected in msg["content"]
    assert len(msg["content"]) < 120
    assert await search_count(services) == 0
    assert tmdb.calls_to("/search/movie") == []


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("99999", "I couldn't find that film on TMDB. Try `/search` with a few words of its title."),
        (
            "no such film at all",
            "I couldn't find a film matching “no such film at all”. Try `/search` with fewer words.",
        ),
    ],
)
async def test_unknown_films_are_reported(
    bot: Any, emulator: Any, services: Services, title: str, expected: str
) -> None:
    msg = await answer(emulator, "movie", {"title": title})
    assert is_ephemeral(msg) and msg["content"] == expected
    msg = await answer(emulator, "watched", {"title": title})
    assert is_ephemeral(msg) and "couldn't find" in msg["content"]
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM watch_history") == 0


async def test_tmdb_down_then_back(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    tmdb.fail(500, times=3)
    msg = await answer(emulator, "browse", {"list": "top_rated"})
    assert is_ephemeral(msg) and msg["content"] == "TMDB isn't answering right now. Try again in a minute."
    assert emulator.channel_messages() == []  # the public "thinking…" was removed
    msg = await answer(emulator, "browse", {"list": "top_rated"})
    assert embed(msg)["title"] == "Top rated"


async def test_tmdb_rate_limit_tells_when_to_retry(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    # Both of the id's lookups (the film, and the digits as a title) are refused.
    tmdb.fail(429, times=2, retry_after="42")
    msg = await answer(emulator, "movie", {"title": "1004"})
    assert is_ephemeral(msg) and msg["content"] == "TMDB is busy right now. Try again in 42 seconds."


async def test_slow_tmdb_still_gets_an_answer_in_time(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    tmdb.latency = 1.5
    rec = await emulator.invoke("browse", {"list": "upcoming"})
    assert await rec.wait_callback() == 5 and rec.initial_latency < 3
    msg = await visible_answer(rec)
    assert is_ephemeral(msg) and "isn't answering" in msg["content"]


async def test_refused_tmdb_token(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    tmdb.token = "rotated"
    msg = await answer(emulator, "trailer", {"title": "1002"})
    assert is_ephemeral(msg) and "TMDB access was refused" in msg["content"]
    assert "rotated" not in msg["content"] and "tmdb-test-token" not in msg["content"]


async def test_autocomplete_never_errors(bot: Any, emulator: Any, tmdb: FakeTMDB) -> None:
    await answer(emulator, "browse", {"list": "now_playing"})  # films we have now seen
    tmdb.fail(500, times=100)
    choices = await emulator.autocomplete("movie", "title", "midnight")
    known = [f for f in tmdb.lists()["now_playing"][:20] if f["title"].startswith("Midnight")]
    assert {c["value"] for c in choices} == {str(f["id"]) for f in known}
    assert await emulator.autocomplete("movie", "title", "q" * 150) == []
    tmdb.latency = 2.5  # slower than autocomplete may wait: it answers from what it knows
    rec_choices = await emulator.autocomplete("watched", "title", "midnight")
    assert {c["value"] for c in rec_choices} == {str(f["id"]) for f in known}


async def get_health(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(url) as resp:
        return resp.status, await resp.json()


async def test_redis_down_the_bot_keeps_answering(cut: dict[str, Any], emulator: Any, tmdb: FakeTMDB) -> None:
    assert await get_health(cut["health"]) == (200, {"status": "ok", "database": "ok", "redis": "ok"})
    cut["redis"].sever()
    msg = await answer(emulator, "browse", {"list": "popular"})
    assert embed(msg)["title"] == "Popular"
    msg = await answer(emulator, "movie", {"title": "1001"})
    assert embed(msg)["title"].startswith(tmdb.films[1]["title"])
    status, body = await get_health(cut["health"])
    assert status == 503 and body["redis"] == "down" and body["database"] == "ok"
    # Liveness is not readiness: a Redis blip must not get a container that still serves restarted.
    assert await get_health(cut["health"] + "/live") == (200, {"status": "ok"})
    assert sample(cut["services"].metrics, "marquee_cache_total", result="error") >= 1


async def test_database_down_at_run_time(cut: dict[str, Any], emulator: Any, tmdb: FakeTMDB) -> None:
    await answer(emulator, "watched", {"title": "1001"})  # alice is known from here on
    cut["pg"].sever()
    msg = await answer(emulator, "watched")
    assert is_ephemeral(msg) and msg["content"] == "Marquee's database is unreachable right now. Try again in a minute."
    msg = await answer(emulator, "watched", {"title": "1002"})
    assert is_ephemeral(msg) and "database is unreachable" in msg["content"]
    # What needs no database works for everyone, new users too; /search skips its history row.
    carol = emulator.add_member("carol")
    msg = await answer(emulator, "help", user=carol)
    assert embed(msg)["title"] == "Marquee"
    msg = await answer(emulator, "browse", {"list": "popular"}, user=carol)
    assert embed(msg)["title"] == "Popular"
    msg = await answer(emulator, "movie", {"title": "1003"}, user=carol)
    assert embed(msg)["title"] == label(tmdb.films[3])
    msg = await answer(emulator, "trailer", {"title": "1003"}, user=carol)
    assert "trailer3" in msg["content"]
    msg = await answer(emulator, "search", {"query": "crimson"}, user=carol)
    assert "Crimson" in embed(msg)["description"]
    status, body = await get_health(cut["health"])
    assert status == 503 and body["database"] == "down"
    cut["pg"].restore()
    msg = await answer(emulator, "watched")
    assert embed(msg)["footer"]["text"] == "1 film"  # 1002 was refused, not half-stored
    assert (await get_health(cut["health"]))[0] == 200


async def test_redis_down_ai_still_answers_with_limits_held_in_process(
    cut: dict[str, Any], emulator: Any, llm: FakeOpenAI
) -> None:
    cut["redis"].sever()
    llm.latency = 0.2
    # Two identical cold questions at once still make one LLM call: the in-process flight holds.
    recs = [await emulator.invoke("ask", {"query": "crimson waltz"}, user=u) for u in (emulator.alice, emulator.bob)]
    answers = [await visible_answer(r) for r in recs]
    assert all(embed(a)["title"] == "Films for “crimson waltz”" for a in answers)
    assert len(llm.completions()) == 1
    # The burst limit is kept in memory: alice's fourth AI command in a row is refused.
    for n in range(2):
        assert not is_ephemeral(await answer(emulator, "ask", {"query": f"iron echo {n}"}))
    msg = await answer(emulator, "ask", {"query": "iron echo 3"})
    assert is_ephemeral(msg) and msg["content"].startswith("Easy there")


async def test_database_down_ask_still_answers(cut: dict[str, Any], emulator: Any, llm: FakeOpenAI) -> None:
    cut["pg"].sever()
    msg = await answer(emulator, "ask", {"query": "golden frontier"})
    assert embed(msg)["title"] == "Films for “golden frontier”"  # the history row is skipped, not the answer
    msg = await answer(emulator, "foryou", user=emulator.bob)
    assert is_ephemeral(msg) and "database is unreachable" in msg["content"]


async def test_database_down_similar_and_semantic_say_so_and_redis_down_they_still_answer(
    cut: dict[str, Any], emulator: Any, llm: FakeOpenAI
) -> None:
    from tests.test_similar_semantic import embed_catalogue, listed

    services: Services = cut["services"]
    await embed_catalogue(services, "now_playing", 2)
    cut["redis"].sever()  # no query cache, no queue: search by meaning still works
    assert len(listed(await answer(emulator, "semantic", {"query": "iron harbor"}))) == 10
    assert len(listed(await answer(emulator, "similar", {"title": "1005"}))) == 10
    cut["redis"].restore()
    cut["pg"].sever()
    for name, options in (("semantic", {"query": "iron harbor"}), ("similar", {"title": "1005"})):
        msg = await answer(emulator, name, options)
        assert is_ephemeral(msg) and "database is unreachable" in msg["content"], msg
