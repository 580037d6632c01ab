"""/ask and /foryou filters against a model that ignores them: sent as constraints, enforced
after matching on TMDB (no film shown breaks one), part of the cache key, and kept by "More picks"."""

from __future__ import annotations

import json
from typing import Any

from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, components, embed, is_ephemeral, visible_answer
from tests.test_foryou_history import watch
from tests.test_similar_semantic import listed


def insist_on_everything(llm: FakeOpenAI, tmdb: FakeTMDB) -> None:
    """A model that suggests the same 8 varied films whatever the constraints say."""
    llm.include = [(f["title"], int(f["release_date"][:4])) for f in tmdb.films[:8]]


async def test_ask_enforces_each_filter_whatever_the_model_says(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    insist_on_everything(llm, tmdb)
    films = {f["id"]: f for f in tmdb.films}
    horror = await answer(emulator, "ask", {"query": "something tonight", "genre": 27})
    assert not is_ephemeral(horror) and listed(horror)
    assert all(27 in films[i]["genre_ids"] for i in listed(horror))
    assert json.loads(llm.calls[-1].user)["constraints"] == {"genre": "Horror"}

    nineties = await answer(emulator, "ask", {"query": "something tonight", "decade": 1990}, user=emulator.bob)
    assert listed(nineties) and all(films[i]["release_date"].startswith("199") for i in listed(nineties))

    short = await answer(emulator, "ask", {"query": "something tonight", "max_runtime": 95}, user=emulator.owner)
    runtimes = {i: (await services.tmdb.details(i)).data.runtime for i in listed(short)}
    assert runtimes and all(minutes is not None and minutes <= 95 for minutes in runtimes.values())

    for film in tmdb.films[1:3]:
        film["original_language"] = "fr"
    await services.redis.flushdb()  # TMDB's cached searches predate the change
    french = await answer(emulator, "ask", {"query": "something tonight", "language": "French"})
    assert sorted(listed(french)) == [tmdb.films[1]["id"], tmdb.films[2]["id"]]
    calls = len(llm.completions())
    await answer(emulator, "ask", {"query": "Something tonight?", "language": "fr"}, user=emulator.bob)
    assert len(llm.completions()) == calls  # the same question and filters: the cached answer


async def test_a_filter_that_leaves_nothing_says_which(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    insist_on_everything(llm, tmdb)
    msg = await answer(emulator, "ask", {"query": "something tonight", "max_runtime": 30})
    assert is_ephemeral(msg) and msg["content"].startswith(
        "None of the films the AI suggested are 30 minutes or shorter. Try loosening that filter."
    )
    calls = len(llm.calls)
    bad = await answer(emulator, "ask", {"query": "something tonight", "language": "Klingonese"})
    assert is_ephemeral(bad) and bad["content"].startswith("Pick a language from the list")
    assert len(llm.calls) == calls  # refused before any call


async def test_foryou_filters_hold_for_more_picks_too(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await watch(services, emulator.alice, tmdb.films[40], tmdb.films[41])
    msg = await answer(emulator, "foryou", {"decade": 2000})
    films = {f["id"]: f for f in tmdb.films}
    assert listed(msg) and all(films[i]["release_date"].startswith("200") for i in listed(msg))
    assert json.loads(llm.completions("suggestions")[-1].user)["constraints"] == {"released_between": "2000 and 2009"}
    more = next(c for c in components(msg) if str(c.get("custom_id", "")).startswith("marquee:foryou:more:"))
    assert more["custom_id"].endswith(":2000::")
    first = listed(msg)  # `msg` is the emulator's live message: keep what it showed
    rec = await emulator.click(msg, more["custom_id"])
    await rec.wait_for(lambda: listed(emulator.message(msg["id"])) != first or bool(rec.followups), 10, "a batch")
    assert not rec.followups, rec.followups[0]["content"]
    again = emulator.message(msg["id"])
    assert all(films[i]["release_date"].startswith("200") for i in listed(again))
    assert json.loads(llm.completions("suggestions")[-1].user)["constraints"] == {"released_between": "2000 and 2009"}
    assert embed(again)["title"] == "Picked for you"


async def test_history_runs_an_ask_again_with_its_filters(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    insist_on_everything(llm, tmdb)
    await answer(emulator, "ask", {"query": "something tonight", "genre": 27, "decade": 1990})
    await answer(emulator, "ask", {"query": "something tonight"})  # another search: no filters
    past = await answer(emulator, "history")
    lines = embed(past)["description"].splitlines()
    assert "(Horror · 1990s)" in lines[1] and "(" not in lines[0].split("`/ask`", 1)[1].split(" · ")[0]
    rerun = next(c for c in components(past) if c.get("label", "").startswith("2. "))
    again = await visible_answer(await emulator.click(past, rerun["custom_id"], user=emulator.bob))
    films = {f["id"]: f for f in tmdb.films}
    shown = listed(again)
    assert shown and all(27 in films[i]["genre_ids"] and films[i]["release_date"].startswith("199") for i in shown)
