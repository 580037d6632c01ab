"""/movienight when things go wrong: a restart mid-night, a night due while the bot was down,
the database or Redis away, Discord rate-limiting the edits, the message or channel gone, the
AI or TMDB down at the start."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from tests.conftest import connected_bot
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import answer, components, eventually, is_ephemeral, until, visible_answer
from tests.test_movienight import button, lines, start_night, tally, vote

EDIT = r"/channels/\d+/messages/\d+"


async def night_row(services: Services, night: str | int) -> dict[str, Any]:
    async with services.db.connection() as conn:
        row = await conn.fetchrow("SELECT status, winner, close_failures FROM movie_nights WHERE id = $1", int(night))
    assert row is not None
    return dict(row)


async def time_passes(services: Services, night: str, seconds: float) -> None:
    """The night's close time comes `seconds` from now (negative: it is already past)."""
    async with services.db.connection() as conn:
        await conn.execute(
            "UPDATE movie_nights SET closes_at = now() + make_interval(secs => $2) WHERE id = $1", int(night), seconds
        )


def night_id(msg: dict[str, Any]) -> str:
    return button(msg, "1").split(":")[2]


def closed(emulator: Any, msg: dict[str, Any]) -> bool:
    return "closed" in emulator.message(msg["id"])["content"]


async def test_a_night_survives_a_restart_and_closes_on_time(
    services: Services, emulator: Any, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    alice, bob = emulator.alice, emulator.bob
    async with connected_bot(services, emulator):
        _, night = await start_night(emulator, {"member1": bob})
        _, due_while_down = await start_night(emulator, {"member1": bob})
        await vote(emulator, night, 2, alice)
        await vote(emulator, due_while_down, 1, alice)
        await until(lambda: tally(emulator, night)[:2] == [0, 1], 5, "the first vote shown")
    await time_passes(services, night_id(due_while_down), -60)  # its time came while the bot was down

    async with connected_bot(services, emulator):
        # Closed as the bot starts: final tally, disabled buttons, the winner's card.
        await until(lambda: closed(emulator, due_while_down), 10, "the overdue night closed")
        assert all(c.get("disabled") for c in components(emulator.message(due_while_down["id"])))
        winner = lines(due_while_down)[0][1]
        assert any(m["content"].startswith(f"🏆 Tonight's film: **{winner}**") for m in emulator.channel_messages())
        # The other night's buttons work after the restart; its votes were kept.
        assert await vote(emulator, night, 2, bob) == f"Your vote: **{lines(night)[1][1]}**"
        await until(lambda: tally(emulator, night)[:2] == [0, 2], 5, "both votes shown")
        await time_passes(services, night_id(night), 1)
        row = await settled(services, night)
        assert row["status"] == "closed" and row["winner"] == 2 and closed(emulator, night)


async def posted(services: Services, night: dict[str, Any]) -> None:
    """Until the night knows its message (stored just after it is posted)."""

    async def probe() -> bool | None:
        async with services.db.connection() as conn:
            stored = await conn.fetchval("SELECT message_id FROM movie_nights WHERE id = $1", int(night_id(night)))
        return True if stored == int(night["id"]) else None

    await eventually(probe, 5)


async def test_database_down_at_a_vote_counts_nothing(cut: dict[str, Any], emulator: Any, llm: FakeOpenAI) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    await posted(cut["services"], night)
    cut["pg"].sever()
    try:
        reply = await vote(emulator, night, 1, emulator.bob)
        assert reply.startswith("Your vote was not counted") and "Try again" in reply
    finally:
        cut["pg"].restore()
    assert tally(emulator, night) == [0] * len(lines(night))
    assert (await vote(emulator, night, 1, emulator.bob)).startswith("Your vote: ")


async def test_redis_down_nights_and_votes_work(cut: dict[str, Any], emulator: Any, llm: FakeOpenAI) -> None:
    cut["redis"].sever()
    _, night = await start_night(emulator, {"member1": emulator.bob})
    assert (await vote(emulator, night, 3, emulator.bob)).startswith("Your vote: ")
    await until(lambda: tally(emulator, night)[2] == 1, 5, "the vote shown")


async def test_rate_limited_edits_still_show_the_last_tally(bot: Any, emulator: Any, llm: FakeOpenAI) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    emulator.fail_route("PATCH", EDIT, 429, times=2, retry_after=0.3)
    await vote(emulator, night, 1, emulator.alice)
    await vote(emulator, night, 1, emulator.bob)
    await until(lambda: tally(emulator, night)[0] == 2, 10, "the tally after the 429s")


async def settled(services: Services, night: dict[str, Any]) -> dict[str, Any]:
    """The night's row once it is no longer open."""

    async def probe() -> dict[str, Any] | None:
        row = await night_row(services, night_id(night))
        return row if row["status"] != "open" else None

    return await eventually(probe, 10)


async def test_a_deleted_message_closes_the_night_quietly(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    await vote(emulator, night, 1, emulator.bob)
    emulator.delete_message(night)
    await time_passes(services, night_id(night), -1)
    bot.nights.wake()
    # Closed as gone at the first try (no retries, no failures counted), and no card for a
    # night no one can see any more.
    row = await settled(services, night)
    assert row["status"] == "gone" and row["close_failures"] == 0
    assert not any(m["content"].startswith("🏆") for m in emulator.channel_messages())


async def test_a_channel_the_bot_lost_is_closed_quietly_without_retrying(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    await vote(emulator, night, 1, emulator.bob)
    emulator.no_access.add(emulator.channel_id)  # the bot's access to the channel was taken away
    try:
        await time_passes(services, night_id(night), -1)
        bot.nights.wake()
        row = await settled(services, night)
        assert row["status"] == "gone" and row["close_failures"] == 0
    finally:
        emulator.no_access.discard(emulator.channel_id)


async def test_discord_failing_the_close_is_retried_then_lands(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    await vote(emulator, night, 2, emulator.bob)
    await until(lambda: tally(emulator, night)[1] == 1, 5, "the vote shown")
    # Discord answers the close's edit 503 once (discord.py does not retry that one): the
    # close is tried again a little later.
    emulator.fail_route("PATCH", EDIT, 503, times=1)
    await time_passes(services, night_id(night), -1)
    bot.nights.wake()
    row = await settled(services, night)
    assert row["status"] == "closed" and row["winner"] == 2 and row["close_failures"] >= 1
    assert closed(emulator, night)


async def test_the_ai_down_at_the_start_is_said_and_costs_nothing(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI
) -> None:
    await services.watch.mark_id(int(emulator.alice["id"]), 1001)
    await services.watch.mark_id(int(emulator.alice["id"]), 1002)
    llm.fail(503, times=20)
    msg = await answer(emulator, "movienight", {"member1": emulator.bob}, seconds=20)
    assert is_ephemeral(msg) and "The AI" in msg["content"], msg["content"]
    assert await services.ai_limits.used(int(emulator.alice["id"])) == 0
    assert not [m for m in emulator.channel_messages() if m.get("embeds")]


async def test_tmdb_down_after_the_model_answered_gives_the_request_back(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    tmdb.fail(503, times=500)
    msg = await answer(emulator, "movienight", {"member1": emulator.bob}, seconds=20)
    assert is_ephemeral(msg) and "TMDB" in msg["content"], msg["content"]
    assert len(llm.completions("nightsuggestions")) == 1  # the model answered...
    assert await services.ai_limits.used(int(emulator.alice["id"])) == 0  # ...and the request was given back


async def test_tmdb_down_at_the_close_still_announces_the_winner(
    bot: Any, emulator: Any, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB
) -> None:
    _, night = await start_night(emulator, {"member1": emulator.bob})
    winner = lines(night)[1][1]
    await vote(emulator, night, 2, emulator.bob)
    await services.redis.flushdb()  # nothing of the winner's in the cache
    tmdb.fail(503, times=500)
    closed = await emulator.click(night, button(night, "close"), user=emulator.alice)
    assert (await visible_answer(closed))["content"] == f"🏁 Closed. **{winner}** won."
    announced = emulator.channel_messages()[-1]
    assert announced["content"].startswith(f"🏆 Tonight's film: **{winner}** with 1 vote of 1.")
    assert not announced["embeds"]  # its card needs TMDB
    row = await night_row(services, night_id(night))
    assert row["status"] == "closed" and row["winner"] == 2
