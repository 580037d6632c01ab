"""`marquee` start-up errors and doctor, as an operator sees them in a terminal."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from tests.fakes.discord_emu import DiscordEmulator
from tests.fakes.openai import FakeOpenAI
from tests.fakes.stripe import FakeStripe
from tests.fakes.tmdb import FakeTMDB
from tests.fakes.trakt import FakeTrakt
from tests.process import MarqueeProcess, base_env, free_port, stores_env


async def run(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    proc = await MarqueeProcess(args, env, cwd).start()
    code = await proc.wait(120)
    return code, proc.output()


async def test_a_missing_setting_is_one_line(tmp_path: Path) -> None:
    code, out = await run(["run"], base_env(MARQUEE_DATA_DIR=str(tmp_path / "d")), tmp_path)
    assert (code, out) == (2, "marquee: TMDB_TOKEN is not set (see .env.example)\n")
    code, out = await run(["run"], base_env(TMDB_TOKEN="t", MARQUEE_DATA_DIR=str(tmp_path / "d")), tmp_path)
    assert (code, out) == (2, "marquee: DISCORD_TOKEN is not set (see .env.example)\n")


async def test_a_malformed_setting_is_one_line(tmp_path: Path) -> None:
    code, out = await run(["migrate"], base_env(WEB_PORT="eighty"), tmp_path)
    assert code == 2 and out.startswith("marquee: WEB_PORT is invalid:") and out.count("\n") == 1


async def test_the_env_file_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TMDB_TOKEN=from-dotenv\n")
    code, out = await run(["run"], base_env(MARQUEE_DATA_DIR=str(tmp_path / "d")), tmp_path)
    assert (code, out) == (2, "marquee: DISCORD_TOKEN is not set (see .env.example)\n")


async def test_database_unreachable_at_start(tmp_path: Path) -> None:
    env = base_env(
        TMDB_TOKEN="t",
        DISCORD_TOKEN="d",
        DATABASE_URL="postgresql://postgres:secret-pw@127.0.0.1:1/marquee",
        REDIS_URL="redis://127.0.0.1:1/0",
        WEB_PORT=str(free_port()),
    )
    code, out = await run(["run"], env, tmp_path)
    assert code == 1
    assert out.strip().splitlines()[-1] == "marquee: database unavailable: connection refused"
    assert "Traceback" not in out and "secret-pw" not in out


async def test_doctor_checks_everything(
    tmp_path: Path, tmdb: FakeTMDB, emulator: Any, database_url: str, redis_url: str, llm: FakeOpenAI
) -> None:
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        **emulator.env(),
    )
    code, out = await run(["doctor"], env, tmp_path)
    lines = out.strip().splitlines()
    assert code == 0, out
    assert lines[0] == f"ok       discord: token works for bot AcceptanceBot ({emulator.application_id})"
    assert lines[1] == "ok       tmdb: token works (US, en-US)"
    assert lines[2] == "off      openai: OPENAI_API_KEY is not set: AI features are off"
    assert lines[3] == "off      ai limits: AI is off"
    assert lines[4] == "off      stripe: billing is off: Pro commands are open to everyone"
    assert lines[5] == "off      trakt: /import trakt is off (set TRAKT_CLIENT_ID and TRAKT_CLIENT_SECRET)"
    assert lines[6].startswith("ok       database: DATABASE_URL: PostgreSQL ")
    assert lines[6].endswith("with pgvector, migrations up to date")
    assert lines[7] == "off      embeddings: AI is off: /similar shows TMDB's recommendations"
    assert lines[8].startswith("ok       redis: REDIS_URL: Redis ")

    ai = {**env, "OPENAI_API_KEY": llm.api_key, "OPENAI_BASE_URL": llm.base_url, "AI_DAILY_TOKEN_BUDGET": "200000"}
    code, out = await run(["doctor"], ai, tmp_path)
    lines = out.strip().splitlines()
    assert code == 0, out
    assert lines[2] == (
        "ok       openai: key works (chat gpt-4o-mini, embeddings text-embedding-3-small at 1536 dimensions)"
    )
    assert lines[7] == "ok       embeddings: searches use text-embedding-3-small@1536: 0 of 0 films embedded"
    assert lines[3] == (
        "ok       ai limits: AI_DAILY_FREE_QUOTA 20 /ask + /foryou per free user a UTC day; "
        "AI_DAILY_TOKEN_BUDGET 200,000 tokens a UTC day"
    )
    ai.update(OPENAI_CHAT_MODEL="gpt-nonexistent", AI_DAILY_FREE_QUOTA="0")
    code, out = await run(["doctor"], ai, tmp_path)
    assert code == 0  # AI is optional: a wrong model is reported, the rest still runs
    assert "failing  openai: OPENAI_CHAT_MODEL gpt-nonexistent is not offered by this server (2 models are)" in out
    assert "AI_DAILY_FREE_QUOTA 0: no per-user cap" in out
    assert llm.api_key not in out
    code, out = await run(["doctor"], {**ai, "OPENAI_EMBEDDING_MODEL": "x'; DROP TABLE movies; --"}, tmp_path)
    assert code == 2 and out.strip() == (
        "marquee: OPENAI_EMBEDDING_MODEL is invalid: Value error, a model name is letters, digits and . _ : / @ + -"
        " (at most 100)"
    )

    env.update(TMDB_TOKEN="wrong", STRIPE_SECRET_KEY="sk_test_x")
    code, out = await run(["doctor"], env, tmp_path)
    assert code == 1
    assert "failing  tmdb: the key or token was refused (HTTP 401)" in out
    assert (
        "missing  stripe: billing needs all three settings; STRIPE_WEBHOOK_SECRET, STRIPE_PRO_PRICE_ID not set" in out
    )
    assert "wrong" not in out and "sk_test_x" not in out


async def test_a_refused_discord_token_is_one_line(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str
) -> None:
    async with DiscordEmulator(token="the-real-token") as strict:
        env = stores_env(
            tmdb,
            database_url,
            redis_url,
            WEB_PORT=str(free_port()),
            **strict.env("a-wrong-token"),
        )
        code, out = await run(["run"], env, tmp_path)
    assert code == 1
    assert out.strip().splitlines()[-1] == "marquee: DISCORD_TOKEN was refused by Discord"
    assert "Traceback" not in out and "a-wrong-token" not in out


async def test_billing_reconcile_prints_what_it_changed(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str, stripe_api: FakeStripe
) -> None:
    import asyncpg

    stripe_api.customers["cus_drifted"] = {"id": "cus_drifted", "object": "customer", "metadata": {}}
    stripe_api.subscriptions["sub_gone"] = {
        "id": "sub_gone", "object": "subscription", "customer": "cus_drifted", "status": "canceled", "created": 1,
        "cancel_at_period_end": False, "items": {"object": "list", "data": []},
    }  # fmt: skip
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            "INSERT INTO users (discord_id, tier, stripe_customer_id, stripe_subscription_id, subscription_status)"
            " VALUES (5, 'pro', 'cus_drifted', 'sub_gone', 'active'), (6, 'free', NULL, NULL, NULL)"
        )
    finally:
        await conn.close()
    env = stores_env(
        tmdb,
        database_url,
        redis_url,
        **stripe_api.env(),
        PUBLIC_URL="https://marquee.example",
    )
    code, out = await run(["billing", "reconcile"], env, tmp_path)
    assert code == 0, out
    assert "user 5: pro (active) -> free (canceled)" in out and out.strip().endswith("1 user changed")
    code, out = await run(["billing", "reconcile"], env, tmp_path)
    assert out.strip().endswith("0 users changed")
    code, out = await run(["doctor"], {**env, "DISCORD_TOKEN": ""}, tmp_path)
    assert (
        "ok       stripe: key works; Pro price price_pro_monthly is active; PUBLIC_URL https://marquee.example" in out
    )
    assert stripe_api.secret_key not in out and stripe_api.webhook_secret not in out


async def test_alerts_run_sweeps_once_and_says_what_it_did(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str, services: Any
) -> None:
    for user in (11, 12):
        await services.user_settings.save(user, alerts=True)
        await services.watchlist.add(user, 1001, "US")
    await services.watchlist.add(11, 1002, "US")
    tmdb.failing_films.add(1002)
    env = stores_env(tmdb, database_url, redis_url)
    code, out = await run(["alerts", "run"], env, tmp_path)
    assert code == 1, out
    assert "1 of 2 watchlisted films checked, 0 alerts queued, 1 could not be checked (TMDB)" in out
    assert "film 1002: TMDB could not be reached; checked again next sweep" in out
    tmdb.failing_films.clear()
    code, out = await run(["alerts", "run"], env, tmp_path)
    assert code == 0 and "2 of 2 watchlisted films checked, 0 alerts queued" in out, out


async def test_trakt_in_doctor_and_trakt_sync(
    tmp_path: Path, tmdb: FakeTMDB, database_url: str, redis_url: str, trakt: FakeTrakt
) -> None:
    env = stores_env(tmdb, database_url, redis_url, TRAKT_CLIENT_ID=trakt.client_id)
    code, out = await run(["doctor"], env, tmp_path)
    assert "missing  trakt: /import trakt needs both Trakt settings; TRAKT_CLIENT_SECRET is not set" in out
    env.update(TRAKT_CLIENT_SECRET=trakt.client_secret, TRAKT_API_BASE=trakt.base_url)
    code, out = await run(["doctor"], env, tmp_path)
    assert "missing  trakt: MARQUEE_SECRET_KEY is not set: Trakt's tokens are stored only encrypted" in out
    assert "Fernet.generate_key()" in out and trakt.client_secret not in out
    code, out = await run(["doctor"], {**env, "MARQUEE_SECRET_KEY": "not-a-key"}, tmp_path)
    assert code == 2 and "MARQUEE_SECRET_KEY is invalid: Value error, must be a Fernet key" in out, out
    env["MARQUEE_SECRET_KEY"] = Fernet.generate_key().decode()
    code, out = await run(["doctor"], env, tmp_path)
    assert f"ok       trakt: the client id works at {trakt.base_url}; /import trakt is on" in out, out
    code, out = await run(["trakt", "sync"], env, tmp_path)
    assert code == 0 and "0 Trakt users checked: 0 unchanged (skipped), 0 synced" in out, out
    assert env["MARQUEE_SECRET_KEY"] not in out
