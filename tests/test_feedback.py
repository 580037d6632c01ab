"""👍/👎 end to end: from a card or a list, per user; a 👎 film never comes back in /ask, /foryou,
/similar or /semantic (even when the model insists on it); feedback remakes the taste profile."""

from __future__ import annotations

import json
from typing import Any

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, component, components, is_ephemeral, label, visible_answer
from tests.test_similar_semantic import KIN_OF_1005, embed_catalogue, listed


def button(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    return next(c for c in components(message) if c.get("custom_id") == custom_id)


async def dislike_from_card(emulator: Any, movie_id: int, user: dict[str, Any] | None = None) -> dict[str, Any]:
    card = await answer(emulator, "movie", {"title": str(movie_id)}, user=user or emulator.alice)
    return await visible_answer(
        await emulator.click(card, button(card, f"marquee:feedback:dislike:{movie_id}")["custom_id"], user=user)
    )


async def test_a_film_disliked_on_its_card_never_comes_back(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await embed_catalogue(services, "now_playing", 3)
    nearest = listed(await answer(emulator, "similar", {"title": "1005"}))[0]
    assert nearest in KIN_OF_1005
    film = tmdb.film(nearest)
    said = await dislike_from_card(emulator, nearest)
    assert is_ephemeral(said) and said["content"] == f"👎 Noted: **{label(film)}** won't be suggested to you again."

    assert nearest not in listed(await answer(emulator, "similar", {"title": "1005"}))
    assert nearest in listed(await answer(emulator, "similar", {"title": "1005"}, user=emulator.bob))  # only alice's
    assert nearest not in listed(await answer(emulator, "semantic", {"query": film["title"]}))
    llm.include = [(film["title"], int(film["release_date"][:4]))]  # a model that insists on it
    await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
    assert nearest not in listed(await answer(emulator, "ask", {"query": "something like that one"}))
    for other in (tmdb.films[2], tmdb.films[14]):
        await services.watch.mark_id(int(emulator.alice["id"]), other["id"])
    await services.redis.delete(f"marquee:rate:ai:{emulator.alice['id']}")
    picks = await answer(emulator, "foryou")
    assert not is_ephemeral(picks) and nearest not in listed(picks)
    assert film["title"] in json.loads(llm.completions("suggestions")[-1].user)["exclude"]


async def test_a_lists_buttons_record_several_films_for_whoever_clicks(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    shown = await answer(emulator, "ask", {"query": "a crimson heist"})
    films = listed(shown)
    chooser = await visible_answer(await emulator.click(shown, "marquee:feedback:list:dislike", user=emulator.bob))
    assert is_ephemeral(chooser) and chooser["content"] == "Which of these are not for you?"
    select = component(chooser, "marquee:feedback:pick:dislike")
    assert [int(o["value"]) for o in select["options"]] == films and select["max_values"] == len(films)
    done = await emulator.select(chooser, select["custom_id"], [str(films[0]), str(films[1])], user=emulator.bob)
    await done.wait_for(lambda: emulator.message(chooser["id"])["content"].startswith("👎 Noted: "), 10, "the edit")
    again = listed(await answer(emulator, "ask", {"query": "a crimson heist"}, user=emulator.bob))  # the cached answer
    assert again == films[2:]
    assert listed(await answer(emulator, "ask", {"query": "a crimson heist"})) == films  # alice's are her own
    assert len(llm.completions()) == 1


async def test_likes_count_as_history_and_remake_the_taste_profile(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice = int(emulator.alice["id"])
    liked = [tmdb.films[4], tmdb.films[8]]
    await services.feedback.record(alice, [f["id"] for f in liked], 1)  # no searches, nothing watched
    assert not is_ephemeral(await answer(emulator, "foryou"))
    profile_call = json.loads(llm.completions("tasteprofile")[0].user)
    assert sorted(profile_call["liked_films"]) == sorted(label(f) for f in liked) and not profile_call["watched_films"]
    await services.redis.delete(f"marquee:rate:ai:{alice}")
    await answer(emulator, "foryou")
    assert len(llm.completions("tasteprofile")) == 1  # unchanged history: the profile is reused
    card = await answer(emulator, "movie", {"title": str(tmdb.films[9]["id"])})
    liked_now = await emulator.click(card, f"marquee:feedback:like:{tmdb.films[9]['id']}")
    assert (await visible_answer(liked_now))["content"].startswith("👍 Noted: you like ")
    await services.redis.delete(f"marquee:rate:ai:{alice}")
    await answer(emulator, "foryou")
    assert len(llm.completions("tasteprofile")) == 2  # a 👍 changed the history: remade
    assert label(tmdb.films[9]) in json.loads(llm.completions("tasteprofile")[-1].user)["liked_films"]
