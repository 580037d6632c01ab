"""`marquee run` as a subprocess on the embedded defaults, configured only through the
environment, against the Discord emulator and the fake TMDB: every command, a Redis killed
mid-run, SIGTERM and SIGINT, and the data still there after a restart."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import aiohttp

from tests.fakes.tmdb import FakeTMDB
from tests.helpers import component, embed, is_ephemeral, label, link_buttons, visible_answer
from tests.process import LEAK_MARKERS, MarqueeProcess, base_env, free_port


async def health(port: int) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as session, session.get(f"http://127.0.0.1:{port}/health") as resp:
        return resp.status, await resp.json()


def assert_clean(output: str) -> None:
    for marker in LEAK_MARKERS:
        assert marker.lower() not in output.lower(), f"{marker!r} in the output:\n{output}"


async def test_marquee_run_end_to_end(tmp_path: Path, emulator: Any, tmdb: FakeTMDB) -> None:
    data_dir = tmp_path / "data"
    web_port = free_port()
    env = base_env(
        TMDB_TOKEN=tmdb.token,
        TMDB_API_BASE=tmdb.base_url,
        MARQUEE_DATA_DIR=str(data_dir),
        WEB_PORT=str(web_port),
        **emulator.env(),
    )
    first = await MarqueeProcess(["run"], env, tmp_path).start()
    try:
        await emulator.wait_ready(60)
        await emulator.wait_commands(30)
        assert (await health(web_port))[0] == 200

        # /browse, a page turn and a card opened from the select
        rec = await emulator.invoke("browse", {"list": "now_playing"})
        page = await visible_answer(rec, 20)
        assert embed(page)["title"] == "Now playing"
        await emulator.click(page, component(page, "marquee:browse:now_playing:2:")["custom_id"])
        await rec.wait_for(lambda: "Page 2 of 3" in embed(emulator.message(page["id"]))["footer"]["text"], 10, "page 2")
        film = tmdb.lists()["now_playing"][25]
        pick = await emulator.select(page, component(page, "marquee:open:")["custom_id"], [str(film["id"])])
        assert embed(await visible_answer(pick))["title"] == label(film)

        # /movie from autocomplete, its Trailer link and Watched button
        choices = await emulator.autocomplete("movie", "title", "iron")
        assert choices and all(c["value"].isdigit() for c in choices)
        card = await visible_answer(await emulator.invoke("movie", {"title": choices[0]["value"]}))
        assert embed(card)["title"] == choices[0]["name"]
        assert link_buttons(card)[0]["label"] == "Trailer"
        marked = await visible_answer(await emulator.click(card, component(card, "marquee:watched:")["custom_id"]))
        assert is_ephemeral(marked) and "Marked" in marked["content"]

        trailer = await visible_answer(await emulator.invoke("trailer", {"title": choices[0]["value"]}))
        assert "https://www.youtube.com/watch?v=" in trailer["content"]
        found = await visible_answer(await emulator.invoke("search", {"query": "orbit"}))
        assert embed(found)["title"] == "Films matching “orbit”"
        helped = await visible_answer(await emulator.invoke("help"))
        assert is_ephemeral(helped)

        # Redis killed mid-run: answers go on without the cache, /health says so
        redis_pid = json.loads((data_dir / "redis.json").read_text())["pid"]
        os.kill(redis_pid, signal.SIGKILL)
        top = await visible_answer(await emulator.invoke("browse", {"list": "top_rated"}), 20)
        assert embed(top)["title"] == "Top rated"
        status, body = await health(web_port)
        assert status == 503 and body == {"status": "degraded", "database": "ok", "redis": "down"}

        assert await first.stop(signal.SIGTERM) == 0
    finally:
        first.kill()
    assert_clean(first.output())
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "the embedded PostgreSQL was left running"

    # Start again: the watch history survived; stop with SIGINT this time.
    emulator._ready.clear()
    second = await MarqueeProcess(["run"], env, tmp_path).start()
    try:
        await emulator.wait_ready(60)
        history = await visible_answer(await emulator.invoke("watched"), 20)
        assert embed(history)["description"].endswith(choices[0]["name"])
        assert await second.stop(signal.SIGINT) == 0
    finally:
        second.kill()
    assert_clean(second.output())
    assert "application commands unchanged; not syncing" in second.output()
    assert tmdb.token not in first.output() + second.output()


async def test_stopping_right_after_start_is_clean(tmp_path: Path, emulator: Any, tmdb: FakeTMDB) -> None:
    env = base_env(
        TMDB_TOKEN=tmdb.token,
        TMDB_API_BASE=tmdb.base_url,
        MARQUEE_DATA_DIR=str(tmp_path / "data"),
        WEB_PORT=str(free_port()),
        **emulator.env(),
    )
    proc = await MarqueeProcess(["run"], env, tmp_path).start()
    try:
        await emulator.wait_ready(60)  # READY sent; discord.py's on_ready is still to come
        assert await proc.stop(signal.SIGTERM) == 0
    finally:
        proc.kill()
    assert_clean(proc.output())
    assert "stopping" in proc.output()
