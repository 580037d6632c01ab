"""The outbox of DMs against the Discord emulator: a 429 (Discord's, or Cloudflare's in front of
it, with or without Retry-After) or a 5xx is not a refusal: the DM is tried again with backoff and
a bound, and delivered once; only closed DMs and other definitive answers are final."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest

from services.db import notices as repo
from services.db.users import ensure_user
from services.notices import ATTEMPTS, DM, Backoff, Outbox
from services.runtime import Services
from tests.helpers import eventually, until
from worker.notify import DiscordDMs, Sender
from worker.settings import run_worker

DM_ROUTE = r"/channels/\d+/messages"


@pytest.fixture
async def dms(services: Services, emulator: Any) -> AsyncIterator[DiscordDMs]:
    client = DiscordDMs("emulator-token", emulator.api_base)
    try:
        yield client
    finally:
        await client.close()


async def owed(services: Services, user: dict[str, Any], kind: str = "pro_ended") -> int:
    """A notice written by a feature (billing's "Pro ended" here) for `user`."""
    async with services.db.transaction() as conn:
        await ensure_user(conn, int(user["id"]))
        notice = await repo.add_notice(conn, int(user["id"]), kind, f"test:{kind}:{user['id']}")
    assert notice is not None
    return notice


async def row(services: Services, notice_id: int) -> dict[str, Any]:
    async with services.db.connection() as conn:
        found = await conn.fetchrow(
            "SELECT sent_at, failure, attempts, last_error, next_attempt_at - now() AS wait FROM notices WHERE id = $1",
            notice_id,
        )
    return dict(found)


def delivered(emulator: Any, user: dict[str, Any]) -> list[str]:
    return [str(m["content"]) for m in emulator.dms(user) if "has ended" in str(m["content"])]


async def test_discords_own_429_is_waited_out_and_the_dm_delivered_once(
    services: Services, emulator: Any, dms: DiscordDMs
) -> None:
    notice = await owed(services, emulator.alice)
    emulator.fail_route("POST", DM_ROUTE, 429, times=2, retry_after=0.2)  # JSON retry_after, Via: discord.py waits
    assert await Sender(services, dms).send(notice) == "sent"
    assert [r.status for r in emulator.requests if re.fullmatch(DM_ROUTE, r.path)] == [429, 429, 200]
    assert len(delivered(emulator, emulator.alice)) == 1
    assert (await row(services, notice))["sent_at"] is not None


@pytest.mark.parametrize(
    ("status", "retry_after", "wait"),
    [(429, 7.0, 7), (429, None, 10), (503, None, 10)],
    ids=["cloudflare-429-with-retry-after", "cloudflare-429-without", "503"],
)
async def test_a_429_or_5xx_is_tried_again_after_its_wait_then_delivered(
    services: Services, emulator: Any, dms: DiscordDMs, status: int, retry_after: float | None, wait: int
) -> None:
    notice = await owed(services, emulator.alice)
    emulator.fail_route("POST", DM_ROUTE, status, times=1, retry_after=retry_after, cloudflare=status == 429)
    sender = Sender(services, dms)
    assert await sender.send(notice) == f"retrying in {wait}s"
    state = await row(services, notice)
    assert state["sent_at"] is None and state["failure"] is None  # not a refusal
    assert state["attempts"] == 1 and state["last_error"] == f"HTTP {status}"
    assert wait - 2 < state["wait"].total_seconds() <= wait
    queued = await services.redis.zrangebyscore("arq:queue", "-inf", "+inf", withscores=True)
    assert [job for job, _ in queued] == [f"notice:{notice}:1".encode()]  # the next attempt, deferred
    assert delivered(emulator, emulator.alice) == []
    assert await sender.send(notice) == "sent"  # what that job does when its time comes
    assert len(delivered(emulator, emulator.alice)) == 1
    assert await sender.send(notice) == "already sent"


async def test_the_running_worker_delivers_a_dm_after_a_429(services: Services, emulator: Any) -> None:
    services.settings.discord_api_base = emulator.api_base
    notice = await owed(services, emulator.bob)
    emulator.fail_route("POST", DM_ROUTE, 429, times=2, retry_after=1.0, cloudflare=True)
    worker = asyncio.create_task(run_worker(services))
    try:
        await Outbox(services.redis).enqueue([notice])
        await until(lambda: bool(delivered(emulator, emulator.bob)), seconds=20, what="the DM")

        async def sent() -> dict[str, Any] | None:  # marked sent once its transaction commits
            state = await row(services, notice)
            return state if state["sent_at"] is not None else None

        state = await eventually(sent)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    assert state["attempts"] == 3 and len(delivered(emulator, emulator.bob)) == 1


async def test_the_retries_are_bounded(services: Services, emulator: Any, dms: DiscordDMs) -> None:
    notice = await owed(services, emulator.alice)
    emulator.fail_route("POST", DM_ROUTE, 429, times=ATTEMPTS, cloudflare=True)
    sender = Sender(services, dms, Backoff(base=1, cap=1))
    outcomes = [await sender.send(notice) for _ in range(ATTEMPTS)]
    assert outcomes[:-1] == ["retrying in 1s"] * (ATTEMPTS - 1)
    assert outcomes[-1] == f"not delivered: gave up after {ATTEMPTS} attempts"
    state = await row(services, notice)
    assert state["failure"] == f"gave up after {ATTEMPTS} attempts: HTTP 429" and state["attempts"] == ATTEMPTS
    assert await sender.send(notice) == "already sent"  # never queued or sent again


async def test_closed_dms_are_final_and_a_lost_job_is_queued_by_the_sweep(
    services: Services, emulator: Any, dms: DiscordDMs
) -> None:
    from worker.jobs import notice_sweep

    emulator.block_dms(emulator.bob)
    refused = await owed(services, emulator.bob)
    assert await Sender(services, dms).send(refused) == "not delivered: the user's DMs are closed"
    assert (await row(services, refused))["failure"] == "the user's DMs are closed"
    lost = await owed(services, emulator.alice)
    async with services.db.connection() as conn:
        await conn.execute("UPDATE notices SET created_at = now() - interval '5 minutes'")
    assert await notice_sweep({"services": services}) == 1  # the refused one is never queued again
    queued = await services.redis.zrangebyscore("arq:queue", "-inf", "+inf")
    assert [q.decode().split(":sweep:")[0] for q in queued] == [f"notice:{lost}:0"]  # the sweep's own job id


async def test_concurrent_dms_share_one_login(services: Services, emulator: Any, dms: DiscordDMs) -> None:
    # Seen: two jobs logging in at once each opened an HTTP session, and one was never closed.
    await asyncio.gather(
        *(
            dms.send(int(user["id"]), DM("hello"), nonce=f"hello-{user['id']}")
            for user in (emulator.alice, emulator.bob)
        )
    )
    assert len([r for r in emulator.requests if r.path == "/users/@me"]) == 1
    assert len(emulator.dms(emulator.alice)) == len(emulator.dms(emulator.bob)) == 1
