"""`only_my_services:` on /browse, /ask and /foryou: only films with a flatrate offer on the user's
services in their region, "Only N" in the footer with "Show all" when fewer than 5 remain, and a
pointer to /settings for someone who has not chosen any. Real bot, emulator, PostgreSQL."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, components, embed, is_ephemeral, visible_answer
from tests.test_filters import insist_on_everything
from tests.test_settings import choose
from tests.test_similar_semantic import listed

STREAMCO, HULU = 1899, 15


async def test_browse_keeps_the_films_on_your_services_within_the_page(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await choose(services, emulator.alice, "US", STREAMCO)
    every = await answer(emulator, "browse", {"list": "now_playing"}, user=emulator.bob)
    mine = await answer(emulator, "browse", {"list": "now_playing", "only_my_services": True})
    assert listed(mine) == [i for i in listed(every) if (i - 1000) % 3 == 0]  # StreamCo: a third of them
    assert embed(mine)["footer"]["text"].startswith(f"{len(listed(mine))} of 20 films stream on your services")
    assert not any(c.get("label") == "Show all" for c in components(mine))  # 5 or more: nothing more to offer


async def test_fewer_than_five_say_only_n_and_show_all_brings_the_rest(
    bot: Any, emulator: Any, services: Services, tmdb: FakeTMDB
) -> None:
    await choose(services, emulator.alice, "US", HULU)
    tmdb.streaming[1003] = {"US": [HULU]}
    tmdb.streaming[1007] = {"GB": [HULU]}  # elsewhere: not for a user in the US
    msg = await answer(emulator, "browse", {"list": "now_playing", "only_my_services": True})
    assert listed(msg) == [1003]
    assert embed(msg)["footer"]["text"].startswith("Only 1 of these films stream on your services")
    show_all = next(c for c in components(msg) if c.get("label") == "Show all")
    rec = await emulator.click(msg, show_all["custom_id"])
    await rec.wait_for(lambda: len(listed(emulator.message(msg["id"]))) == 20, 10, "the whole page")
    assert "stream on your services" not in embed(emulator.message(msg["id"]))["footer"]["text"]

    tmdb.streaming.pop(1003)
    await services.redis.flushdb()  # TMDB's cached details predate the change
    none = await answer(emulator, "browse", {"list": "now_playing", "only_my_services": True})
    assert embed(none)["description"] == "Nothing here." and listed(none) == [0]  # the menu's disabled stand-in
    assert embed(none)["footer"]["text"].startswith("None of these films stream on your services")


async def test_no_services_chosen_points_to_settings(bot: Any, emulator: Any) -> None:
    msg = await answer(emulator, "browse", {"list": "popular", "only_my_services": True})
    assert is_ephemeral(msg)
    assert msg["content"] == (
        "You haven't picked your streaming services yet: choose them in `/settings`, then try again."
    )


async def test_ask_holds_to_your_services_against_a_model_insisting_on_others(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    insist_on_everything(llm, tmdb)  # films 1000-1007: StreamCo streams 1000, 1003 and 1006
    await choose(services, emulator.alice, "US", STREAMCO)
    msg = await answer(emulator, "ask", {"query": "something tonight", "only_my_services": True})
    assert sorted(listed(msg)) == [1000, 1003, 1006]
    assert embed(msg)["footer"]["text"].startswith("Only 3 of these films stream on your services")
    show_all = next(c for c in components(msg) if c.get("label") == "Show all")
    calls = len(llm.completions())
    everything = await visible_answer(await emulator.click(msg, show_all["custom_id"]))
    assert is_ephemeral(everything) and len(listed(everything)) == 8
    assert len(llm.completions()) == calls  # the cached answer: no LLM call, no quota


async def test_foryou_narrowed_and_show_all_the_batch(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    from tests.test_foryou_history import watch

    await watch(services, emulator.alice, *(tmdb.film(i) for i in (1100, 1101, 1102)))
    insist_on_everything(llm, tmdb)
    await choose(services, emulator.alice, "US", STREAMCO)
    msg = await answer(emulator, "foryou", {"only_my_services": True})
    assert listed(msg) and all((i - 1000) % 3 == 0 for i in listed(msg))
    show_all = next(c for c in components(msg) if c.get("label") == "Show all")
    everything = await visible_answer(await emulator.click(msg, show_all["custom_id"]))
    assert is_ephemeral(everything) and set(listed(msg)) < set(listed(everything))
