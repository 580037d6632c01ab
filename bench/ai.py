"""The AI benchmarks (bench/run.py prints them with the rest):

- /ask end to end through the Discord emulator (dispatch to the answer a user sees), with the
  fake LLM answering in a fixed 500 ms: the bot's own share (end to end minus the LLM call as the
  client timed it), cold and warm TMDB cache; and, measured alone, TMDB matching of 8
  suggestions (wall time and TMDB calls) and the render;
- LLM calls and tokens per /ask (new and repeated) and per /foryou (new and unchanged history);
- 100 identical cold /ask from two `bench.flight` processes sharing Redis: LLM calls.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.common import Rows, bot_settings, ms, p99
from bot.cogs.ask import answer_embed, answer_view
from services.ai.matching import match_suggestions
from services.ai.schemas import Suggestion
from services.embedded import embedded_postgres, embedded_redis
from services.runtime import Services, open_services
from tests.conftest import TEST_RETRY, connected_bot
from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import NOUNS, WORDS, FakeTMDB
from tests.process import base_env

LLM_LATENCY = 0.5
TMDB_LATENCY = 0.05
ASKS = 50
FLIGHT = 100


def llm_seconds(services: Services) -> float:
    """Total time the openai client spent in chat calls so far (the histogram's sum)."""
    total = 0.0
    for metric in services.metrics.llm_latency.collect():
        total += sum(s.value for s in metric.samples if s.name.endswith("_sum"))
    return total


def queries(offset: int) -> list[str]:
    return [f"a {WORDS[n % 10].lower()} film about a {NOUNS[(n + offset) % 10].lower()} no. {n}" for n in range(ASKS)]


async def ask_run(emu: Any, services: Services, texts: list[str], *, cold: bool) -> list[float]:
    """Each /ask alone (latency, not throughput), each from its own user; the bot's share of each.
    `cold`: TMDB's cache is emptied before each, so every suggestion is searched on TMDB."""
    shares = []
    for n, text in enumerate(texts):
        if cold:
            await services.redis.flushdb()
        user = emu.add_member(f"asker{len(emu.members)}-{n}")
        before = llm_seconds(services)
        began = time.perf_counter()
        rec = await emu.invoke("ask", {"query": text}, user=user)
        await rec.wait_for(lambda rec=rec: any(m.get("embeds") for m in rec.messages), 30, "the /ask answer")
        shares.append(time.perf_counter() - began - (llm_seconds(services) - before))
    return shares


async def ask_latency(rows: Rows, services: Services, emu: Any, tmdb: FakeTMDB, llm: FakeOpenAI) -> None:
    llm.latency, tmdb.latency = LLM_LATENCY, TMDB_LATENCY
    await services.catalog.genre_names()
    texts = queries(0)
    cold = await ask_run(emu, services, texts, cold=True)
    await ask_run(emu, services, queries(5), cold=False)  # fills TMDB's cache for the warm run
    keys = [services.ask.answer_key(t) for t in queries(5)]
    await services.redis.delete(*(f"marquee:{k}" for k in keys))  # forget the answers, keep TMDB's cache
    warm = await ask_run(emu, services, queries(5), cold=False)
    for name, shares in (("cold", cold), ("warm", warm)):
        rows.append(
            (
                f"/ask, {ASKS} one at a time, LLM fixed at 500 ms: the bot's share (all but the LLM), "
                f"{name} TMDB cache: p50 / p99",
                f"{ms(statistics.median(shares))} / {ms(p99(shares))}",
            )
        )
    await matching(rows, services, tmdb)
    answer = await services.ask.ask(1, texts[0])
    genres = await services.catalog.genre_names()
    renders = []
    for _ in range(200):
        began = time.perf_counter()
        answer_embed(answer, genres).to_dict()
        answer_view(answer, genres).to_components()
        renders.append(time.perf_counter() - began)
    rows.append(
        ("/ask render (embed + select of 8 films): p50 / p99", f"{ms(statistics.median(renders))} / {ms(p99(renders))}")
    )


async def matching(rows: Rows, services: Services, tmdb: FakeTMDB) -> None:
    films = tmdb.films[60:68]
    suggestions = [Suggestion(title=f["title"], year=int(f["release_date"][:4]), reason="") for f in films]
    await services.redis.flushdb()  # cold: no search cached
    before = len(tmdb.calls_to("/search/movie"))
    began = time.perf_counter()
    picks = await match_suggestions(services.catalog, suggestions)
    cold = time.perf_counter() - began
    calls = len(tmdb.calls_to("/search/movie")) - before
    began = time.perf_counter()
    await match_suggestions(services.catalog, suggestions)
    warm = time.perf_counter() - began
    rows.append(
        (
            f"TMDB matching of 8 suggestions, TMDB answering in {ms(TMDB_LATENCY)}: cold wall time (TMDB calls) / warm",
            f"{ms(cold)} ({calls} calls, {len(picks)} matched) / {ms(warm)}",
        )
    )


async def calls_and_tokens(rows: Rows, services: Services, llm: FakeOpenAI, tmdb: FakeTMDB) -> None:
    llm.latency = tmdb.latency = 0.0

    def tokens() -> int:
        return sum(
            int(s.value) for m in services.metrics.llm_tokens.collect() for s in m.samples if s.name.endswith("_total")
        )

    async def measure(run: Any) -> tuple[int, int]:
        calls, spent = len(llm.completions()), tokens()
        await run()
        return len(llm.completions()) - calls, tokens() - spent

    new = await measure(lambda: services.ask.ask(7001, "a broken frontier at midnight"))
    repeat = await measure(lambda: services.ask.ask(7002, "A Broken Frontier at MIDNIGHT?"))
    for film in tmdb.films[30:33]:
        await services.watch.mark_id(7003, film["id"])
    first = await measure(lambda: services.foryou.picks(7003))
    unchanged = await measure(lambda: services.foryou.picks(7003))
    rows.append(
        (
            "LLM calls (tokens) per /ask: new question / the same again",
            f"{new[0]} ({new[1]}) / {repeat[0]} ({repeat[1]})",
        )
    )
    rows.append(
        (
            "LLM calls (tokens) per /foryou: first / history unchanged",
            f"{first[0]} ({first[1]}) / {unchanged[0]} ({unchanged[1]})",
        )
    )


async def two_process_flight(rows: Rows, llm: FakeOpenAI, tmdb: FakeTMDB, data_dir: Path) -> None:
    """FLIGHT identical cold /ask, half from each of two processes sharing Redis and PostgreSQL."""
    llm.latency = LLM_LATENCY
    before = len(llm.completions())
    async with AsyncExitStack() as stack:
        dsn = await stack.enter_async_context(embedded_postgres(data_dir))
        redis_url = await stack.enter_async_context(embedded_redis(data_dir))
        env = base_env(
            DATABASE_URL=dsn,
            REDIS_URL=redis_url,
            TMDB_TOKEN=tmdb.token,
            TMDB_API_BASE=tmdb.base_url,
            OPENAI_API_KEY=llm.api_key,
            OPENAI_BASE_URL=llm.base_url,
            MARQUEE_DATA_DIR=str(data_dir),
            QUERY="an electric orbit, cold",
            ASKS=str(FLIGHT // 2),
            START_AT=str(time.time() + 8),
        )
        procs = [
            await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bench.flight",
                env={**env, "FIRST_USER": str(10_000 * (n + 1))},
                stdout=asyncio.subprocess.PIPE,
            )
            for n in range(2)
        ]
        outputs = [json.loads((await p.communicate())[0]) for p in procs]
    fresh = sum(o["fresh"] for o in outputs)
    same = (
        "the same films"
        if outputs[0]["shown"] == outputs[1]["shown"] and len(outputs[0]["shown"]) == 1
        else "different films"
    )
    rows.append(
        (
            f"{FLIGHT} identical cold /ask at once from two processes sharing Redis: LLM calls",
            f"{len(llm.completions()) - before} ({fresh} request paid; all {FLIGHT} shown {same})",
        )
    )


async def ai_benchmarks(rows: Rows) -> None:
    with tempfile.TemporaryDirectory(prefix="marquee-bench-ai-") as tmp:
        async with FakeTMDB() as tmdb, FakeOpenAI(tmdb) as llm, DiscordEmulator() as emu:
            settings = bot_settings(tmdb, llm, Path(tmp) / "data")
            async with open_services(settings, tmdb_retry=TEST_RETRY) as services:
                async with connected_bot(services, emu):
                    await ask_latency(rows, services, emu, tmdb, llm)
                await calls_and_tokens(rows, services, llm, tmdb)
        async with FakeTMDB() as tmdb, FakeOpenAI(tmdb) as llm:
            await two_process_flight(rows, llm, tmdb, Path(tmp) / "data")


if __name__ == "__main__":
    out: Rows = []
    asyncio.run(ai_benchmarks(out))
    print(f"Measured {time.strftime('%Y-%m-%d')} on {os.cpu_count()} cores\n\n| measure | result |\n|---|---|")
    for name, value in out:
        print(f"| {name} | {value} |")
