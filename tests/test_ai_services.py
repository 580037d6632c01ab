"""The AI services without Discord: single-flight across processes (two service stacks that
share only Redis, as two bot processes do), title matching, and the cache's lock."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr, TypeAdapter

from services.ai.matching import best_match, normal_title, search_text
from services.ai.schemas import Suggestion
from services.config import Settings
from services.runtime import Services, open_services
from services.tmdb.models import MovieSummary
from tests.conftest import TEST_LLM, TEST_RETRY
from tests.fakes.openai import FakeOpenAI
from tests.fakes.tmdb import FakeTMDB


@pytest.fixture
async def other_process(settings: Settings) -> AsyncIterator[Services]:
    """A second, independent service stack (its own cache and flights) on the same Redis and database."""
    async with open_services(settings, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services:
        yield services


async def test_identical_cold_questions_from_two_processes_make_one_llm_call(
    services: Services, other_process: Services, llm: FakeOpenAI
) -> None:
    llm.latency = 0.3
    users = range(1, 41)
    answers = await asyncio.gather(
        *((services if n % 2 else other_process).ask.ask(n, "A silent HARBOR, please") for n in users)
    )
    assert len(llm.completions()) == 1
    assert len({tuple(p.film.id for p in a.picks) for a in answers}) == 1
    assert sum(not a.cached for a in answers) == 1  # one request paid; the rest were answered by its flight
    used = [await services.ai_limits.used(n) for n in users]
    assert sum(used) == 1


async def test_tmdb_loads_are_shared_across_processes_too(
    services: Services, other_process: Services, tmdb: FakeTMDB
) -> None:
    tmdb.latency = 0.2
    pages = await asyncio.gather(*((services if n % 2 else other_process).catalog.search("echo") for n in range(20)))
    assert len(tmdb.calls_to("/search/movie")) == 1
    assert len({p.total_results for p in pages}) == 1


async def test_a_dead_lock_holder_delays_a_load_but_never_blocks_it(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # A process took the lock and died: its lock outlives it until it expires.
    await services.redis.set("marquee:lock:demo", "someone-else", px=60_000)
    loads = 0

    async def load() -> int:
        nonlocal loads
        loads += 1
        return 42

    started = time.monotonic()
    with caplog.at_level(logging.WARNING):
        value, fresh = await services.cache.get_or_load("demo", 60, load, TypeAdapter(int), lock_seconds=0.5)
    assert (value, fresh, loads) == (42, True, 1)
    assert 0.45 <= time.monotonic() - started < 5
    assert any("loading it here" in r.getMessage() for r in caplog.records)


def film(movie_id: int, title: str, year: int | None, votes: int = 10, original: str | None = None) -> MovieSummary:
    from datetime import date

    return MovieSummary(
        id=movie_id,
        title=title,
        release_date=date(year, 6, 1) if year else None,
        vote_count=votes,
        original_title=original,
    )


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("The Matrix", "matrix"),
        ("Matrix, The", "The Matrix"),
        ("Amélie", "AMELIE"),
        ("Léon: The Professional", "Leon The Professional"),
        ("Fast & Furious", "Fast and Furious"),
        ("Spider-Man", "Spider Man"),
        ("Les Misérables", "Miserables"),
    ],
)
def test_titles_are_compared_without_case_accents_punctuation_or_leading_articles(a: str, b: str) -> None:
    assert normal_title(a) == normal_title(b)


def test_different_titles_stay_different() -> None:
    assert normal_title("Heat") != normal_title("The Heat Wave")
    assert normal_title("The") == "the"  # a one-word title keeps its word
    assert search_text("The Godfather") == "Godfather" and search_text("Casablanca, The") == "Casablanca"


def test_the_year_decides_between_films_that_share_a_title() -> None:
    results = [film(1, "Dune", 1984, votes=5000), film(2, "Dune", 2021, votes=9000), film(3, "Dune World", 2021)]
    assert best_match("Dune", 1984, results) == results[0]
    assert best_match("dune", 2022, results) == results[1]  # off by one: release dates vary
    assert best_match("Dune", None, results) == results[1]  # the most voted
    assert best_match("Dune", 1950, results) is None  # another film of that name
    assert best_match("Dune Messiah", 2021, results) is None
    original = [film(4, "Spirited Away", 2001, original="千と千尋の神隠し")]
    assert best_match("千と千尋の神隠し", 2001, original) == original[0]


def test_model_output_is_cleaned_and_implausible_years_dropped() -> None:
    parsed = Suggestion.model_validate({"title": " Heat\n\x00", "year": "1995", "reason": "x" * 500})
    assert parsed.title == "Heat" and parsed.year == 1995 and len(parsed.reason) == 200
    assert Suggestion.model_validate({"title": "Heat", "year": 19950, "reason": ""}).year is None


async def test_with_billing_on_pro_users_are_not_capped_and_free_users_hear_of_pro(
    settings: Settings, llm: FakeOpenAI
) -> None:
    from services.errors import QuotaExceeded

    billing = settings.model_copy(
        update={
            "stripe_secret_key": SecretStr("sk_test_x"),
            "stripe_webhook_secret": SecretStr("whsec_x"),
            "stripe_pro_price_id": "price_x",
            "ai_daily_free_quota": 1,
        }
    )
    async with open_services(billing, tmdb_retry=TEST_RETRY, llm_policy=TEST_LLM) as services:
        async with services.db.transaction() as conn:
            await conn.execute("INSERT INTO users (discord_id, tier) VALUES (1, 'pro'), (2, 'free')")
        for n in range(3):
            await services.ask.ask(1, f"pro question {n}")
        await services.ask.ask(2, "free question")
        with pytest.raises(QuotaExceeded) as refused:
            await services.ask.ask(2, "another free question")
        assert refused.value.user_message.endswith("Pro has no daily cap: `/upgrade`.")
        assert await services.ai_limits.used(1) == 0 and await services.ai_limits.used(2) == 1
    assert len(llm.completions()) == 4
