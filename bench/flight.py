"""One "bot process" of the cross-process single-flight benchmark: opens Marquee's services from
the environment (the shared PostgreSQL and Redis, the fake OpenAI and TMDB), waits for the
agreed start time, sends ASKS identical cold /ask at once, and prints what happened as JSON.

    python -m bench.flight   (run by bench/ai.py, twice at once)
"""

from __future__ import annotations

import asyncio
import json
import os
import time

from services.config import load_settings
from services.runtime import open_services
from tests.conftest import TEST_RETRY


async def main() -> None:
    asks, first_user = int(os.environ["ASKS"]), int(os.environ["FIRST_USER"])
    start_at, query = float(os.environ["START_AT"]), os.environ["QUERY"]
    async with open_services(load_settings(), tmdb_retry=TEST_RETRY) as services:
        await asyncio.sleep(max(0.0, start_at - time.time()))
        answers = await asyncio.gather(*(services.ask.ask(first_user + n, query) for n in range(asks)))
    shown = {tuple(p.film.id for p in a.picks) for a in answers}
    print(json.dumps({"fresh": sum(not a.cached for a in answers), "shown": sorted(shown)}))


if __name__ == "__main__":
    asyncio.run(main())
