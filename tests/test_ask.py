"""/ask end to end: the real bot and discord.py against the emulator, the official openai client
against the fake OpenAI server, the fake TMDB, real PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, embed, is_ephemeral, label, sample, visible_answer


async def history_rows(services: Services) -> list[dict[str, Any]]:
    async with services.db.connection() as conn:
        rows = await conn.fetch("SELECT discord_id, kind, query, movie_ids FROM search_history ORDER BY id")
    return [dict(r) for r in rows]


def suggested(llm: FakeOpenAI, call: int = -1) -> list[dict[str, Any]]:
    """What the fake model answered in a call (its suggestions, in order)."""
    completion = llm.completions("suggestions")[call]
    return list(FakeOpenAI._suggest(llm, json.loads(completion.user)))


async def test_ask_shows_matched_films_and_saves_the_search(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    msg = await answer(emulator, "ask", {"query": "a crimson heist at midnight"})
    assert not is_ephemeral(msg)
    shown = embed(msg)
    assert shown["title"] == "Films for “a crimson heist at midnight”"
    calls = llm.completions("suggestions")
    assert len(calls) == 1 and calls[0].mode == "json_schema"
    # The user's words travel only in the user message, as data.
    assert "crimson heist" not in calls[0].system and json.loads(calls[0].user) == {
        "request": "a crimson heist at midnight"
    }
    picks = suggested(llm)
    first = next(
        f for f in tmdb.films if f["title"] == picks[0]["title"] and f["release_date"][:4] == str(picks[0]["year"])
    )
    assert label(first) in shown["description"]
    rows = await history_rows(services)
    assert [(r["kind"], r["query"]) for r in rows] == [("ask", "a crimson heist at midnight")]
    assert rows[0]["movie_ids"][0] == first["id"] and len(rows[0]["movie_ids"]) == len(set(rows[0]["movie_ids"]))
    async with services.db.connection() as conn:
        stored = await conn.fetchval("SELECT count(*) FROM movies WHERE id = ANY($1)", rows[0]["movie_ids"])
    assert stored == len(rows[0]["movie_ids"])

    select = component(msg, "marquee:open:ask_")
    assert [o["value"] for o in select["options"]] == [str(i) for i in rows[0]["movie_ids"]]
    pick = await emulator.select(msg, select["custom_id"], [str(first["id"])])
    card = await visible_answer(pick)
    assert embed(card)["title"] == label(first)
    assert sample(services.metrics, "marquee_llm_calls_total", model="gpt-4o-mini", command="ask", outcome="ok") == 1
    assert sample(services.metrics, "marquee_llm_tokens_total", model="gpt-4o-mini", command="ask", kind="prompt") > 0


def scripted(*films: tuple[str, int | None]) -> str:
    return json.dumps({"suggestions": [{"title": t, "year": y, "reason": f"because of {t}"} for t, y in films]})


async def test_the_same_question_again_costs_no_llm_call_and_no_quota(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    first = await answer(emulator, "ask", {"query": "Golden   summer ORBIT films"})
    again = await answer(emulator, "ask", {"query": "golden summer orbit films!"}, user=emulator.bob)
    assert embed(again)["description"] == embed(first)["description"]
    assert len(llm.completions()) == 1
    assert sample(services.metrics, "marquee_ask_cache_total", result="hit") == 1
    assert await services.ai_limits.used(int(emulator.alice["id"])) == 1
    assert await services.ai_limits.used(int(emulator.bob["id"])) == 0  # a cache hit is free
    assert [r["discord_id"] for r in await history_rows(services)] == [
        int(emulator.alice["id"]),
        int(emulator.bob["id"]),
    ]


async def test_questions_that_differ_by_accents_scripts_or_emoji_are_asked_apart(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    pairs = [
        ("phim về ma", "phim về má"),  # films about ghosts, films about mothers
        ("🤣🤣🤣", "💔😭💔"),
        ("films like Amélie", "films like Amelie"),
        ("Кино про войну", "Kino pro voynu"),
    ]
    for n, (one, other) in enumerate(pairs):
        before = len(llm.completions())
        await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
        assert not is_ephemeral(await answer(emulator, "ask", {"query": one}))  # answered, so cached
        await answer(emulator, "ask", {"query": other}, user=emulator.bob if n % 2 else emulator.owner)
        assert len(llm.completions()) == before + 2, (one, other)
        assert [json.loads(c.user)["request"] for c in llm.completions()[-2:]] == [one, other]
    # What does not change the meaning still finds the answer: case, spacing, punctuation
    # around it, and Unicode's other spellings of the same text (a decomposed "é", full-width letters).
    before = len(llm.completions())
    for same in ("PHIM VỀ MA?", "  phim   về ma ", "films like Ame\u0301lie!", "ｆｉｌｍｓ ｌｉｋｅ Amélie"):
        await services.redis.delete(f"marquee:rate:ai:{emulator.bob['id']}")
        assert not is_ephemeral(await answer(emulator, "ask", {"query": same}, user=emulator.bob))
    assert len(llm.completions()) == before
    assert await services.ai_limits.used(int(emulator.bob["id"])) == 2  # the four again were free


async def test_ten_concurrent_identical_cold_questions_make_one_llm_call(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    llm.latency = 0.3  # they all arrive while the first call is in flight
    users = [emulator.add_member(f"fan{n}") for n in range(10)]
    recs = await asyncio.gather(*(emulator.invoke("ask", {"query": "silent echo"}, user=u) for u in users))
    answers = await asyncio.gather(*(visible_answer(r) for r in recs))
    assert len(llm.completions()) == 1
    assert len({embed(a)["description"] for a in answers}) == 1
    # One of them paid for the call; the others were answered by its flight, free.
    used = [await services.ai_limits.used(int(u["id"])) for u in users]
    assert sorted(used) == [0] * 9 + [1]


async def test_films_that_share_a_title_are_told_apart_by_year(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    older, newer = tmdb.films[5], tmdb.films[105]
    assert older["title"] == newer["title"] and older["release_date"][:4] != newer["release_date"][:4]
    llm.answer_next("content", content=scripted((f"The {newer['title'].upper()}", int(newer["release_date"][:4]))))
    msg = await answer(emulator, "ask", {"query": "that one film"})
    assert label(newer) in embed(msg)["description"] and label(older) not in embed(msg)["description"]
    assert (await history_rows(services))[0]["movie_ids"] == [newer["id"]]


async def test_unknown_titles_are_dropped_and_all_unknown_says_so(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    real = tmdb.films[3]
    llm.answer_next(
        "content",
        content=scripted(
            ("A Film That Does Not Exist", 2001),
            (real["title"], int(real["release_date"][:4])),
            (real["title"].lower(), int(real["release_date"][:4])),
        ),
    )
    msg = await answer(emulator, "ask", {"query": "mixed bag"})
    description = embed(msg)["description"]
    assert "Does Not Exist" not in description and description.count(label(real)) == 1  # never twice
    llm.answer_next("content", content=scripted(("Nothing Real", 1999), ("Also Invented", None)))
    msg = await answer(emulator, "ask", {"query": "all invented"})
    assert is_ephemeral(msg)
    assert msg["content"] == (
        "I couldn't match any of the AI's suggestions to real films; try rewording. "
        "That used one of today's 20 free AI requests (18 left)."  # the model answered: it counts
    )
    assert [r["query"] for r in await history_rows(services)] == ["mixed bag"]  # nothing saved for the failure


async def test_with_no_key_ai_commands_say_so_and_everything_else_works(
    settings: Any, emulator: Any, llm: FakeOpenAI
) -> None:
    from services.runtime import open_services
    from tests.conftest import TEST_RETRY, connected_bot

    off = settings.model_copy(update={"openai_api_key": None})
    async with open_services(off, tmdb_retry=TEST_RETRY) as services, connected_bot(services, emulator):
        for name in ("ask", "foryou"):
            msg = await answer(emulator, name, {"query": "anything"} if name == "ask" else {})
            assert is_ephemeral(msg) and msg["content"].startswith("AI features are not configured on this bot.")
        helped = embed(await answer(emulator, "help"))
        assert "AI features are not configured" in helped["description"]
        ai_lines = [f["value"] for f in helped["fields"] if f["name"] in ("/ask", "/foryou")]
        assert len(ai_lines) == 2 and all("AI (off on this bot)" in v for v in ai_lines)
        assert embed(await answer(emulator, "search", {"query": "orbit"}))["title"] == "Films matching “orbit”"
        assert embed(await answer(emulator, "history"))["title"] == "Your recent searches"
    assert llm.calls == []
