"""/foryou and /history end to end (emulator, fake OpenAI, fake TMDB, real PostgreSQL and Redis)."""

from __future__ import annotations

import json
from typing import Any

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import WORDS, FakeTMDB
from tests.helpers import answer, component, components, embed, is_ephemeral, label, visible_answer


async def watch(services: Services, user: dict[str, Any], *films: dict[str, Any]) -> None:
    for film in films:
        await services.watch.mark_id(int(user["id"]), film["id"])


def shown_ids(msg: dict[str, Any]) -> set[int]:
    return {int(o["value"]) for o in component(msg, "marquee:open:")["options"]}


async def test_foryou_with_too_little_history_says_what_to_do_first(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await watch(services, emulator.alice, tmdb.films[1])
    msg = await answer(emulator, "foryou")
    assert is_ephemeral(msg)
    assert all(name in msg["content"] for name in ("`/ask`", "`/search`", "`/watched`")), msg["content"]
    assert llm.calls == []


async def test_foryou_never_shows_a_watched_film_and_more_picks_brings_new_ones(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    watched = [tmdb.films[2], tmdb.films[14], tmdb.films[27]]
    await watch(services, emulator.alice, *watched)
    # A model that ignores the exclusions and insists on films the user has seen.
    llm.include = [(f["title"], int(f["release_date"][:4])) for f in watched]
    msg = await answer(emulator, "foryou")
    assert not is_ephemeral(msg) and embed(msg)["title"] == "Picked for you"
    first = shown_ids(msg)
    assert first and not first & {f["id"] for f in watched}
    assert all(label(f) not in embed(msg)["description"] for f in watched)
    assert len(llm.completions("tasteprofile")) == 1 and len(llm.completions("suggestions")) == 1
    profile_call = json.loads(llm.completions("tasteprofile")[0].user)
    assert {label(f) for f in watched} <= set(profile_call["watched_films"])
    assert {f["title"] for f in watched} <= set(json.loads(llm.completions("suggestions")[0].user)["exclude"])

    more = await emulator.click(msg, component(msg, "marquee:foryou:more:")["custom_id"])
    await more.wait_for(lambda: shown_ids(emulator.message(msg["id"])) != first, 10, "another batch")
    second = shown_ids(emulator.message(msg["id"]))
    assert second and not second & first and not second & {f["id"] for f in watched}
    # The history did not change: the stored profile was reused (one profile call in all).
    assert len(llm.completions("tasteprofile")) == 1 and len(llm.completions("suggestions")) == 2
    assert await services.ai_limits.used(int(emulator.alice["id"])) == 2  # "More picks" counts as a /foryou

    # Someone else cannot spend alice's picks.
    intruder = await emulator.click(msg, component(msg, "marquee:foryou:more:")["custom_id"], user=emulator.bob)
    assert "belong to whoever ran the command" in (await visible_answer(intruder))["content"]


async def test_the_taste_profile_is_recomputed_only_when_the_history_changes(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await watch(services, emulator.alice, tmdb.films[4], tmdb.films[8])
    await answer(emulator, "foryou")
    await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
    await answer(emulator, "foryou")
    assert len(llm.completions("tasteprofile")) == 1
    await answer(emulator, "search", {"query": "orbit"})  # new history
    await answer(emulator, "foryou")
    assert len(llm.completions("tasteprofile")) == 2
    await watch(services, emulator.alice, tmdb.films[9])
    await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
    await answer(emulator, "foryou")
    assert len(llm.completions("tasteprofile")) == 3
    assert "search: orbit" in json.loads(llm.completions("tasteprofile")[-1].user)["recent_searches"]


async def test_why_these_shows_the_taste_profile_to_its_owner_only(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await watch(services, emulator.alice, tmdb.films[4], tmdb.films[8])
    msg = await answer(emulator, "foryou")
    why = await emulator.click(msg, component(msg, "marquee:foryou:why:")["custom_id"])
    shown = await visible_answer(why)
    assert is_ephemeral(shown) and embed(shown)["title"] == "Your taste, as Marquee sees it"
    profile = await services.foryou.profile(int(emulator.alice["id"]))
    assert embed(shown)["description"] == profile.summary
    assert {f["name"] for f in embed(shown)["fields"]} >= {"You like", "You seem to avoid"}
    assert len(llm.calls) == 2  # shown from the stored profile, no LLM call
    other = await emulator.click(msg, component(msg, "marquee:foryou:why:")["custom_id"], user=emulator.bob)
    assert "belong to whoever ran the command" in (await visible_answer(other))["content"]


async def test_history_lists_the_last_searches_and_reruns_them_for_whoever_clicks(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    empty = await answer(emulator, "history")
    assert is_ephemeral(empty) and "No searches yet" in embed(empty)["description"]
    for word in WORDS:  # ten searches, then an /ask: the oldest search drops off the list
        await answer(emulator, "search", {"query": word})
    await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
    asked = await answer(emulator, "ask", {"query": "a golden heist"})
    listed = await answer(emulator, "history")
    assert is_ephemeral(listed)
    buttons = [c for c in components(listed) if str(c.get("custom_id", "")).startswith("marquee:rerun:")]
    assert len(buttons) == 10
    assert buttons[0]["label"] == "1. a golden heist" and buttons[1]["label"] == f"2. {WORDS[-1]}"
    lines = embed(listed)["description"].splitlines()
    assert len(lines) == 10 and "`/ask` a golden heist" in lines[0] and "<t:" in lines[0]

    # bob runs alice's /ask again: the cached answer, no LLM call, in bob's own history.
    rerun = await emulator.click(listed, buttons[0]["custom_id"], user=emulator.bob)
    again = await visible_answer(rerun)
    assert embed(again)["description"] == embed(asked)["description"]
    assert len(llm.completions()) == 1
    # and alice's /search, as a search of his own.
    rerun = await emulator.click(listed, buttons[1]["custom_id"], user=emulator.bob)
    results = await visible_answer(rerun)
    assert embed(results)["title"] == f"Films matching “{WORDS[-1]}”"
    async with services.db.connection() as conn:
        bobs = [
            r["query"]
            for r in await conn.fetch(
                "SELECT query FROM search_history WHERE discord_id = $1 ORDER BY id", int(emulator.bob["id"])
            )
        ]
    assert bobs == ["a golden heist", WORDS[-1]]


async def test_foryou_counts_only_when_a_call_was_paid_for(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice = int(emulator.alice["id"])
    await watch(services, emulator.alice, tmdb.films[4], tmdb.films[8])
    llm.fail(500, times=5, after=1)  # the taste profile is answered (paid); the picks call is refused
    msg = await answer(emulator, "foryou")
    assert is_ephemeral(msg) and msg["content"].startswith("The AI isn't answering right now")
    assert msg["content"].endswith("That used one of today's 20 free AI requests (19 left).")
    assert await services.ai_limits.used(alice) == 1
    # The profile was stored: the next /foryou makes only the picks call, refused before any answer.
    llm.fail(500, times=5)
    await services.redis.delete(f"marquee:rate:ai:{alice}")
    msg = await answer(emulator, "foryou")
    assert msg["content"] == "The AI isn't answering right now. Try again in a minute."
    assert await services.ai_limits.used(alice) == 1 and len(llm.completions("tasteprofile")) == 1


async def test_history_shows_a_question_asked_again_once_at_its_latest_time(
    bot: Any, emulator: Any, services: Services
) -> None:
    for query in ("orbit", "echo", "Orbit ", "echo"):
        await answer(emulator, "search", {"query": query})
    await answer(emulator, "search", {"query": "orbit", "year": 2001})  # another search: a year
    listed = await answer(emulator, "history")
    labels = [c["label"] for c in components(listed) if str(c.get("custom_id", "")).startswith("marquee:rerun:")]
    assert labels == ["1. orbit", "2. echo", "3. Orbit"]  # "Orbit " again replaced "orbit"; echo once
    assert "2001" in embed(listed)["description"].splitlines()[0]
