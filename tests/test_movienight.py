"""/movienight end to end: the real bot against the emulator, the official openai client against
the fake OpenAI, the fake TMDB, real PostgreSQL and Redis."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from typing import Any

from services.db.feedback import DISLIKE
from services.runtime import Services
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, components, embed, eventually, is_ephemeral, label, until, visible_answer
from tests.test_foryou_history import watch
from tests.test_my_services import STREAMCO
from tests.test_settings import choose

NIGHT_LINE = re.compile(r"\*\*(\d)\.\*\* (.+?) — (\d+) votes?")


def night_of(rec: Any) -> dict[str, Any]:
    """The public night message of a /movienight invocation."""
    return next(m for m in rec.messages if not is_ephemeral(m) and m.get("embeds"))


def lines(msg: dict[str, Any]) -> list[tuple[int, str, int]]:
    """(number, label, votes) per candidate, as the embed shows them."""
    return [(int(n), name, int(v)) for n, name, v in NIGHT_LINE.findall(embed(msg)["description"])]


def tally(emulator: Any, msg: dict[str, Any]) -> list[int]:
    return [votes for _, _, votes in lines(emulator.message(msg["id"]))]


def button(msg: dict[str, Any], action: str) -> str:
    return next(c["custom_id"] for c in components(msg) if str(c.get("custom_id", "")).endswith(f":{action}"))


async def start_night(emulator: Any, options: dict[str, Any], **kw: Any) -> tuple[Any, dict[str, Any]]:
    rec = await emulator.invoke("movienight", options, **kw)
    await rec.wait_callback()
    await rec.wait_for(lambda: any(not is_ephemeral(m) and m.get("embeds") for m in rec.messages), 15, "the night")
    return rec, night_of(rec)


async def vote(emulator: Any, msg: dict[str, Any], number: int | str, user: Any) -> str:
    rec = await emulator.click(msg, button(msg, str(number)), user=user)
    reply = await visible_answer(rec)
    assert is_ephemeral(reply), reply
    return str(reply["content"])


async def with_history(services: Services, tmdb: FakeTMDB, user: dict[str, Any], *indexes: int) -> None:
    await watch(services, user, *(tmdb.films[i] for i in indexes))


async def test_a_night_for_three_blends_their_tastes_and_leaves_out_what_they_watched(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice, bob = emulator.alice, emulator.bob
    carol = emulator.add_member("carol", global_name="Carol")
    await with_history(services, tmdb, alice, 2, 14, 27)
    await with_history(services, tmdb, bob, 5, 9)
    disliked = tmdb.films[33]
    await services.feedback.record(int(bob["id"]), [disliked["id"]], DISLIKE)
    # A model that insists on films alice watched and bob 👎'd.
    insisted = [tmdb.films[2], tmdb.films[14], disliked]
    llm.include = [(f["title"], int(f["release_date"][:4])) for f in insisted]

    rec, msg = await start_night(
        emulator,
        {"member1": bob, "member2": carol, "member3": emulator.bot_user, "member4": alice, "member5": bob},
    )
    assert msg["content"].startswith(f"🍿 Movie night by **Alice** with <@{bob['id']}> <@{carol['id']}>: vote below")
    assert re.search(r"closes <t:\d+:R>$", msg["content"])
    shown = lines(msg)
    assert [n for n, _, _ in shown] == [1, 2, 3, 4, 5] and all(v == 0 for _, _, v in shown)
    assert not {label(f) for f in insisted} & {name for _, name, _ in shown}
    assert "Not enough history yet, counted as neutral: Carol" in embed(msg)["description"]
    suits = re.findall(r"Suits: (.+)", embed(msg)["description"])
    assert {name for line in suits for name in line.split(", ")} == {"Alice", "Bob", "Carol"}
    # 1️⃣–5️⃣ and Close, numbers only.
    buttons = components(msg)
    assert [b.get("emoji", {}).get("name") for b in buttons[:5]] == ["1️⃣", "2️⃣", "3️⃣", "4️⃣", "5️⃣"]
    assert all(not b.get("label") for b in buttons[:5]) and buttons[5]["label"] == "Close"
    # Only the invited members were pinged, once; not the host.
    assert sorted(u for m, u in emulator.pings if m == int(msg["id"])) == sorted([int(bob["id"]), int(carol["id"])])
    # The host hears whom the bot left out.
    await rec.wait_for(lambda: any(is_ephemeral(m) for m in rec.messages), 5, "the note")
    note = next(m for m in rec.messages if is_ephemeral(m))
    assert "AcceptanceBot (a bot)" in note["content"] and "you (you host it)" in note["content"]
    assert "Bob (named twice)" in note["content"]
    # Two fresh profiles (alice, bob; carol is neutral) and one call for the group; one request of alice's quota.
    assert len(llm.completions("tasteprofile")) == 2 and len(llm.completions("nightsuggestions")) == 1
    asked = json.loads(llm.completions("nightsuggestions")[0].user)
    assert [p["taste_profile"] is None for p in asked["participants"]] == [False, False, True]
    assert {insisted[0]["title"], disliked["title"]} <= set(asked["exclude"])
    assert "Alice" not in llm.completions("nightsuggestions")[0].user  # names never reach the model
    assert await services.ai_limits.used(int(alice["id"])) == 1
    assert await services.ai_limits.used(int(bob["id"])) == 0

    # A second night of the same group reuses the stored profiles: one LLM call.
    before = len(llm.calls)
    await start_night(emulator, {"member1": bob, "member2": carol})
    assert len(llm.calls) == before + 1


async def test_live_tally_changed_and_repeated_votes_host_only_close_and_winner_card(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice, bob = emulator.alice, emulator.bob
    dave = emulator.add_member("dave", global_name="Dave")
    await with_history(services, tmdb, alice, 2, 14)
    _, msg = await start_night(emulator, {"member1": bob})
    titles = [name for _, name, _ in lines(msg)]

    assert await vote(emulator, msg, 1, alice) == f"Your vote: **{titles[0]}**"
    assert await vote(emulator, msg, 2, bob) == f"Your vote: **{titles[1]}**"
    assert await vote(emulator, msg, 1, bob) == f"Your vote: **{titles[0]}**"  # changed
    assert await vote(emulator, msg, 1, bob) == f"Your vote: **{titles[0]}**"  # the same again: nothing changes
    assert await vote(emulator, msg, 3, dave) == f"Your vote: **{titles[2]}**"  # anyone here may vote
    await until(lambda: tally(emulator, msg)[:3] == [2, 0, 1], 5, "the live tally")

    refused = await emulator.click(msg, button(msg, "close"), user=bob)
    assert (await visible_answer(refused))["content"] == "Only the host can close it."
    assert tally(emulator, msg)[:3] == [2, 0, 1]

    closed = await emulator.click(msg, button(msg, "close"), user=alice)
    assert (await visible_answer(closed))["content"] == f"🏁 Closed. **{titles[0]}** won."
    final = emulator.message(msg["id"])
    assert final["content"].endswith(f"closed. **{titles[0]}** won.")
    assert all(c.get("disabled") for c in components(final))
    assert f"🏆 **1.** {titles[0]} — 2 votes" in embed(final)["description"]
    card = emulator.channel_messages()[-1]
    assert card["content"].startswith(f"🏆 Tonight's film: **{titles[0]}** with 2 votes of 3.")
    assert embed(card)["title"] == titles[0]
    assert any(f["name"].startswith("Where to watch (US)") for f in embed(card)["fields"])
    # No one was pinged after the start.
    assert {m for m, _ in emulator.pings} == {int(msg["id"])}

    add = next(c["custom_id"] for c in components(card) if str(c.get("custom_id", "")).startswith("marquee:watchlist:"))
    added = await visible_answer(await emulator.click(card, add, user=dave))
    assert added["content"] == f"Added **{titles[0]}** to your watchlist."

    # Closed means closed: no vote lands after.
    async with services.db.connection() as conn:
        votes = await conn.fetchval("SELECT count(*) FROM night_votes")
        status = await conn.fetchval("SELECT status FROM movie_nights")
    assert votes == 3 and status == "closed"


async def test_members_only_refuses_outsiders_and_ties_go_to_the_first(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice, bob = emulator.alice, emulator.bob
    dave = emulator.add_member("dave", global_name="Dave")
    _, msg = await start_night(emulator, {"member1": bob, "members_only": True})
    titles = [name for _, name, _ in lines(msg)]
    outsider = await emulator.click(msg, button(msg, "1"), user=dave)
    assert (await visible_answer(outsider))["content"] == "This movie night is for the invited members."
    await vote(emulator, msg, 3, bob)
    await vote(emulator, msg, 2, alice)
    await until(lambda: tally(emulator, msg)[:3] == [0, 1, 1], 5, "the tally")
    closed = await emulator.click(msg, button(msg, "close"), user=alice)
    assert (await visible_answer(closed))["content"] == f"🏁 Closed. **{titles[1]}** won."


async def test_a_night_with_no_votes_has_no_winner_and_no_card(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    _, msg = await start_night(emulator, {"member1": emulator.bob})
    count = len(emulator.channel_messages())
    closed = await emulator.click(msg, button(msg, "close"), user=emulator.alice)
    assert (await visible_answer(closed))["content"] == "🏁 Closed with no votes, so no winner."
    assert emulator.message(msg["id"])["content"].endswith("closed with no votes, so no winner.")
    assert len(emulator.channel_messages()) == count


async def test_too_few_films_left_is_explained_and_costs_no_request(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    # The model answers one film only: a vote needs two.
    film = tmdb.films[4]
    content = json.dumps({"suggestions": [{"title": film["title"], "year": 1999, "reason": "x", "suits": [1]}]})
    llm.answer_next("content", content=content)
    msg = await answer(emulator, "movienight", {"member1": emulator.bob})
    assert is_ephemeral(msg) and "at least two" in msg["content"]
    assert "didn't count against your daily AI requests" in msg["content"]
    assert await services.ai_limits.used(int(emulator.alice["id"])) == 0
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM movie_nights") == 0


async def test_forged_vote_ids_are_refused(bot: Any, emulator: Any, services: Services, llm: FakeOpenAI) -> None:
    _, first = await start_night(emulator, {"member1": emulator.bob})
    _, second = await start_night(emulator, {"member1": emulator.bob})
    night_id = button(first, "1").split(":")[2]
    too_far = button(second, "4").replace(":4", ":50")
    for forged in (f"marquee:night:{night_id}:1", too_far, "marquee:night:999999:2"):
        rec = await emulator.forge_click(second, forged, user=emulator.bob)
        reply = await visible_answer(rec)
        assert is_ephemeral(reply) and "out of date" in reply["content"], reply
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM night_votes") == 0


async def test_a_storm_of_votes_is_counted_once_each_with_coalesced_edits(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    _, msg = await start_night(emulator, {"member1": emulator.bob})
    voters = [emulator.add_member(f"voter{n}") for n in range(51)]
    clicks = [await emulator.click(msg, button(msg, str(1 + n % 3)), user=v) for n, v in enumerate(voters)]
    clicks += [await emulator.click(msg, button(msg, "4"), user=v) for v in voters[:6]]  # six change
    for rec in clicks:
        assert (await visible_answer(rec))["content"].startswith("Your vote: ")
    await until(lambda: tally(emulator, msg)[:4] == [15, 15, 15, 6], 10, "every vote shown")
    times = [t for t, m in emulator.edit_log if m == int(msg["id"])]
    # At most one edit a second (the first at once), and fewer edits than votes.
    assert len(times) < len(voters)
    assert all(b - a >= 0.9 for a, b in pairwise(times)), times
    async with services.db.connection() as conn:
        assert await conn.fetchval("SELECT count(*) FROM night_votes") == 51


async def test_movienight_is_not_offered_in_dms(bot: Any, emulator: Any) -> None:
    try:
        await emulator.invoke("movienight", {"member1": emulator.bob}, where="dm")
    except ValueError as exc:
        assert "not available" in str(exc)
    else:
        raise AssertionError("/movienight was offered in a DM")


async def test_tally_is_in_the_database_not_the_message(bot: Any, emulator: Any, services: Services) -> None:
    """A vote is stored before it is acknowledged as counted."""
    _, msg = await start_night(emulator, {"member1": emulator.bob})
    await vote(emulator, msg, 2, emulator.bob)

    async def stored() -> int | None:
        async with services.db.connection() as conn:
            choice: int | None = await conn.fetchval("SELECT choice FROM night_votes")
            return choice

    assert await eventually(stored) == 2


async def test_only_their_services_keeps_what_streams_for_one_of_them_and_says_whose(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    await choose(services, emulator.bob, "US", STREAMCO)  # StreamCo streams a third of the films in the US
    on_streamco = [f for f in tmdb.films if (f["id"] - 1000) % 3 == 0][:4]
    llm.include = [(f["title"], int(f["release_date"][:4])) for f in on_streamco]
    _, msg = await start_night(emulator, {"member1": emulator.bob, "only_my_services": True})
    shown = lines(msg)
    assert 2 <= len(shown) <= 5 and {name for _, name, _ in shown} <= {
        label(f) for f in tmdb.films if (f["id"] - 1000) % 3 == 0
    }
    assert embed(msg)["description"].count("Streams on StreamCo (Bob)") == len(shown)
