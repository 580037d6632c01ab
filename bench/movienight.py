"""/movienight benchmarks, the bot in this process against the Discord emulator, the fake OpenAI
and TMDB, embedded PostgreSQL and Redis:

- LLM calls per /movienight of 3 members with history: the first night (their profiles made),
  then the same group again (profiles current; target 1);
- the vote storm: 50 members vote within one second, then 20 change their vote: every vote
  counted once, the final tally right, the edits of the night's message (target at most one a
  second; the final tally shown within 2 s of the last vote), and the vote ack p99.

    python -m bench.movienight
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import time
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Any

from bench.common import Rows, bot_settings, ms, p99
from services.runtime import Services, open_services
from tests.conftest import TEST_RETRY, connected_bot
from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB

VOTERS, CHANGERS = 50, 20
LINE = re.compile(r"\*\*(\d)\.\*\* .+? — (\d+) votes?")


def shown_tally(emu: Any, message_id: str) -> list[int]:
    return [int(v) for _, v in LINE.findall(emu.message(message_id)["embeds"][0]["description"])]


async def night(emu: Any, host: Any, members: list[Any]) -> dict[str, Any]:
    options = {f"member{n}": m for n, m in enumerate(members, 1)}
    rec = await emu.invoke("movienight", options, user=host)
    await rec.wait_for(lambda: any(m.get("embeds") for m in rec.messages), 30, "the night")
    return next(m for m in rec.messages if m.get("embeds"))


async def llm_calls(rows: Rows, services: Services, emu: Any, llm: FakeOpenAI, tmdb: FakeTMDB) -> None:
    host, bob = emu.alice, emu.bob
    carol = emu.add_member("carol")
    for n, person in enumerate((host, bob, carol)):
        for film in tmdb.films[n * 5 : n * 5 + 3]:
            await services.watch.mark_id(int(person["id"]), film["id"])
    figures = []
    for run in ("first night (profiles made)", "same group again (profiles current)"):
        before = len(llm.calls)
        await night(emu, host, [bob, carol])
        figures.append(f"{run}: {len(llm.calls) - before}")
    rows.append(("LLM calls per /movienight of 3 members with history (target 1 when current)", "; ".join(figures)))


async def vote_storm(rows: Rows, services: Services, emu: Any) -> None:
    message = await night(emu, emu.alice, [emu.bob])
    message_id = message["id"]
    buttons = [c["custom_id"] for row in message["components"] for c in row["components"]][:5]
    voters = [emu.add_member(f"voter{n}") for n in range(VOTERS)]
    choice = {n: n % 5 for n in range(VOTERS)}
    edits_before = len(emu.edit_log)

    async def click(n: int) -> Any:
        rec = await emu.click(message_id, buttons[choice[n]], user=voters[n])
        await rec.wait_for(lambda: any(m.get("content") for m in rec.messages), 30, "the vote's answer")
        return rec

    started = time.perf_counter()
    first = await asyncio.gather(*(click(n) for n in range(VOTERS)))
    storm = time.perf_counter() - started
    changers = [n for n in range(VOTERS) if choice[n] != 0][:CHANGERS]  # now all for the first film
    for n in changers:
        choice[n] = 0
    second = await asyncio.gather(*(click(n) for n in changers))
    last_vote = time.perf_counter()
    expected = [sum(1 for c in choice.values() if c == k) for k in range(5)]
    while shown_tally(emu, message_id) != expected:
        if time.perf_counter() - last_vote > 10:
            raise SystemExit(f"the tally never showed {expected}: {shown_tally(emu, message_id)}")
        await asyncio.sleep(0.01)
    shown_after = time.perf_counter() - last_vote
    async with services.db.connection() as conn:
        counted = await conn.fetchval("SELECT count(*) FROM night_votes")
        stored = [
            r["n"] for r in await conn.fetch("SELECT count(*) AS n FROM night_votes GROUP BY choice ORDER BY choice")
        ]
    edits = [t for t, m in emu.edit_log[edits_before:] if m == int(message_id)]
    per_second = Counter(int(t - edits[0]) for t in edits) if edits else Counter()
    gaps = [b - a for a, b in pairwise(edits)]
    acks = [r.initial_latency for r in (*first, *second) if r.initial_latency is not None]
    rows.append(
        (
            f"vote storm: {VOTERS} members vote at once ({ms(storm)} for all answers), then {CHANGERS} change",
            f"{counted} votes stored (target {VOTERS}), tally {stored} = shown {shown_tally(emu, message_id)}"
            f" (expected {expected}); {len(edits)} edits for {VOTERS + CHANGERS} votes,"
            f" at most {max(per_second.values(), default=0)} in any second, shortest gap {min(gaps, default=0):.2f} s;"
            f" final tally shown {ms(shown_after)} after the last vote's answer (target ≤ 2 s);"
            f" vote ack p99 {ms(p99(acks))}",
        )
    )


async def movienight_benchmarks(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-night-") as tmp:
        async with FakeTMDB() as tmdb, FakeOpenAI(tmdb) as llm, DiscordEmulator() as emu:
            settings = bot_settings(tmdb, llm, Path(tmp) / "data")
            async with open_services(settings, tmdb_retry=TEST_RETRY) as services, connected_bot(services, emu):
                await llm_calls(rows, services, emu, llm, tmdb)
                await vote_storm(rows, services, emu)


if __name__ == "__main__":
    out: Rows = []
    asyncio.run(movienight_benchmarks(out))
    print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores\n\n| measure | result |\n|---|---|")
    for name, value in out:
        print(f"| {name} | {value} |")
