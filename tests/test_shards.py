"""Several bot processes, one bot: two `marquee bot` processes (SHARD_PROCESSES=2) run the 4
shards Discord recommends, against the emulator sharding as Discord does (servers routed by
`(guild_id >> 22) % 4`, DMs to shard 0, one IDENTIFY per 5 seconds), on one PostgreSQL and Redis.
And two workers: every timed job is enqueued once per due time."""

from __future__ import annotations

import re
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from services.notices import Outbox
from services.runtime import Services
from tests.fakes.discord_emu import DiscordEmulator, shard_of
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB
from tests.helpers import components, eventually, is_ephemeral, until, visible_answer
from tests.process import MarqueeProcess, free_port, stores_env
from tests.test_e2e_process import assert_clean
from tests.test_movienight_faults import posted
from tests.test_notices import DM_ROUTE, owed, row
from worker.settings import create_worker

SHARDS, PROCESSES = 4, 2


@pytest.fixture
async def emulator() -> AsyncIterator[Any]:
    async with DiscordEmulator(recommended_shards=SHARDS, max_concurrency=1) as emu:
        for shard in range(SHARDS):  # a server on every shard, besides the first server
            emu.add_guild(f"Server on shard {shard}", shard=(shard, SHARDS))
        yield emu


async def start_bot(
    index: int, tmp_path: Path, emulator: Any, tmdb: FakeTMDB, llm: FakeOpenAI, database_url: str, redis_url: str
) -> tuple[MarqueeProcess, int]:
    port = free_port()
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        OPENAI_API_KEY=llm.api_key,
        OPENAI_BASE_URL=llm.base_url,
        SHARD_PROCESSES=str(PROCESSES),
        SHARD_PROCESS_INDEX=str(index),
        METRICS_PORT=str(port),
        **emulator.env(),
    )
    return await MarqueeProcess(["bot"], env, tmp_path).start(), port


async def answered(metrics_port: int, command: str) -> float:
    """How many times this process answered the command (its own /metrics)."""
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{metrics_port}/metrics") as resp:
        text = await resp.text()
    found = re.search(rf'marquee_commands_total\{{command="{command}",outcome="ok"\}} ([0-9.]+)', text)
    return float(found[1]) if found else 0.0


def guilds(emulator: Any) -> list[int]:
    return [emulator.guild_id, *emulator.extra_guilds]


async def test_two_processes_share_the_shards_and_answer_each_interaction_once(
    tmp_path: Path,
    emulator: Any,
    tmdb: FakeTMDB,
    llm: FakeOpenAI,
    database_url: str,
    redis_url: str,
    services: Services,
) -> None:
    bots = [await start_bot(i, tmp_path, emulator, tmdb, llm, database_url, redis_url) for i in range(PROCESSES)]
    try:
        await emulator.wait_shards(range(SHARDS), 90)
        # Each process identified its own shards, every IDENTIFY 5 s or more after the one before
        # whichever process sent it, and none was refused.
        assert sorted(shard for _, shard, count in emulator.identify_log if count == SHARDS) == list(range(SHARDS))
        assert emulator.identify_refused == []
        times = [t for t, _, _ in emulator.identify_log]
        assert all(b - a >= 5.0 for a, b in pairwise(times)), times
        # The tree was synced by one process only.
        puts = [r for r in emulator.requests if r.method == "PUT" and r.path.endswith("/commands")]
        assert len(puts) == 1

        # A command from every server and from a DM: each answered once, by the process of its shard.
        records = [await emulator.invoke("help", guild_id=g) for g in guilds(emulator)]
        records.append(await emulator.invoke("help", guild=False))
        for rec in records:
            assert is_ephemeral(await visible_answer(rec)) and rec.rejected == []
        expected = [0, 0]
        for g in guilds(emulator):
            expected[shard_of(g, SHARDS) % PROCESSES] += 1
        expected[0] += 1  # the DM: shard 0
        assert [await answered(port, "help") for _, port in bots] == expected

        # A list sent by process 1 (a server on shard 3), whose Next button must work after a restart.
        shard3 = next(g for g in emulator.extra_guilds if shard_of(g, SHARDS) == 3)
        listed = await visible_answer(await emulator.invoke("browse", {"list": "popular"}, guild_id=shard3))
        # And a movie night there, which falls due while process 1 is down.
        rec = await emulator.invoke("movienight", {"member1": emulator.bob}, guild_id=shard3)
        await rec.wait_for(lambda: any(m.get("embeds") for m in rec.messages), 20, "the night")
        night = next(m for m in rec.messages if m.get("embeds"))
        await posted(services, night)
        before = {i: emulator.shard_sessions[i] for i in range(SHARDS)}
        assert await bots[1][0].stop(signal.SIGTERM) == 0
        assert_clean(bots[1][0].output())
        async with services.db.connection() as conn:
            await conn.execute("UPDATE movie_nights SET closes_at = now()")
        await until(lambda: "closed" in emulator.message(night["id"])["content"], 15, "process 0 closing the night")
        bots[1] = await start_bot(1, tmp_path, emulator, tmdb, llm, database_url, redis_url)
        await emulator.wait_shards([1, 3], 60)
        assert all(emulator.shard_sessions[i] is not before[i] for i in (1, 3))
        assert all(emulator.shard_sessions[i] is before[i] for i in (0, 2))  # process 0 kept its sessions
        assert emulator.identify_refused == []
        assert len([r for r in emulator.requests if r.method == "PUT" and r.path.endswith("/commands")]) == 1

        next_page = next(c["custom_id"] for c in components(listed) if c.get("label") == "Next ▶")
        click = await emulator.click(listed, next_page)
        await click.wait_for(lambda: "Page 2" in str(emulator.message(listed["id"])["embeds"]), 15, "page 2")
        again = await emulator.invoke("help", guild_id=shard3)
        assert is_ephemeral(await visible_answer(again)) and again.rejected == []
        assert await answered(bots[1][1], "help") == 1  # the new process 1 answered it
    finally:
        for bot, _ in bots:
            bot.kill()
    for bot, _ in bots:
        assert_clean(bot.output())


async def test_two_workers_enqueue_each_timed_job_once_per_due_time(services: Services) -> None:
    """Both workers reach the same due time (09:00: every job due at minute 0, and the alerts):
    arq's unique cron job ids admit one job of each, whichever worker enqueues first."""
    due = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
    later = datetime(2031, 1, 1, tzinfo=UTC)
    workers = [create_worker(services), create_worker(services)]
    try:
        for worker in workers:
            for job in worker.cron_jobs:
                job.next_run = due if fires_at(job, due) else later
            await worker.run_cron(due, delay=0.5)
        queued = sorted(j.function for j in await services.redis.queued_jobs())
        firing = sorted(j.name for j in workers[0].cron_jobs if fires_at(j, due))
        assert len(firing) >= 4 and queued == firing
    finally:
        for worker in workers:
            await worker.close()


def fires_at(job: Any, moment: datetime) -> bool:
    """Whether a cron job's schedule includes this minute."""
    return (job.minute is None or moment.minute in job.minute) and (job.hour is None or moment.hour in job.hour)


@asynccontextmanager
async def a_dm_in_flight(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str, services: Services
) -> AsyncIterator[tuple[MarqueeProcess, list[MarqueeProcess], int]]:
    """A worker sending alice a DM that Discord has taken but not yet answered (its answer comes
    30 s late); the test stops it and starts the others (listed, killed at the end if need be)."""
    env = stores_env(tmdb, database_url, redis_url, METRICS_PORT="0", **emulator.env())
    emulator.delay_route("POST", DM_ROUTE, 30)
    first = await MarqueeProcess(["worker"], env, tmp_path).start()
    others: list[MarqueeProcess] = []
    try:
        notice = await owed(services, emulator.alice)
        await Outbox(services.redis).enqueue([notice])
        await until(lambda: len(emulator.dms(emulator.alice)) == 1, 30, "the DM made")
        yield first, others, notice
        await eventually(lambda: sent(services, notice), 30)
        posts = [r for r in emulator.requests if r.method == "POST" and re.fullmatch(DM_ROUTE, r.path)]
        assert len(posts) == 2 and len(emulator.dms(emulator.alice)) == 1  # sent twice, one DM
        assert (await row(services, notice))["failure"] is None
        for other in others:
            assert await other.stop(signal.SIGTERM) == 0
            assert_clean(other.output())
    finally:
        for process in (first, *others):
            process.kill()


async def sent(services: Services, notice: int) -> bool | None:
    return True if (await row(services, notice))["sent_at"] is not None else None


async def test_a_worker_stopped_mid_dm_leaves_it_to_the_other_and_it_is_sent_once(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str, services: Services
) -> None:
    async with a_dm_in_flight(tmp_path, emulator, tmdb, database_url, redis_url, services) as (first, others, _):
        others.append(await MarqueeProcess(["worker"], first.env, tmp_path).start())
        assert await first.stop(signal.SIGTERM) == 0  # its job is cancelled mid-wait, and put back
        assert_clean(first.output())


async def test_a_worker_killed_mid_dm_leaves_it_to_the_sweep_and_it_is_sent_once(
    tmp_path: Path, emulator: Any, tmdb: FakeTMDB, database_url: str, redis_url: str, services: Services
) -> None:
    async with a_dm_in_flight(tmp_path, emulator, tmdb, database_url, redis_url, services) as (first, others, notice):
        first.kill()  # SIGKILL: arq holds its job as in progress for hours; the sweep stands in
        await first.wait(10)
        others.append(await MarqueeProcess(["worker"], first.env, tmp_path).start())
        async with services.db.connection() as conn:  # the sweep's minute passes
            await conn.execute(
                "UPDATE notices SET created_at = created_at - interval '2 minutes' WHERE id = $1", notice
            )
        await services.redis.enqueue_job("notice_sweep")
