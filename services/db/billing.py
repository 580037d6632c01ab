"""Repository functions for billing: users' subscription state and the applied Stripe events
(the DMs billing owes go to the outbox: services/db/notices.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class Account:
    discord_id: int
    tier: str
    customer_id: str | None
    subscription_id: str | None
    status: str | None
    period_end: datetime | None
    cancel_at_period_end: bool


_ACCOUNT = (
    "discord_id, tier, stripe_customer_id, stripe_subscription_id, subscription_status, current_period_end,"
    " cancel_at_period_end"
)


def _account(row: asyncpg.Record) -> Account:
    return Account(
        row["discord_id"],
        row["tier"],
        row["stripe_customer_id"],
        row["stripe_subscription_id"],
        row["subscription_status"],
        row["current_period_end"],
        row["cancel_at_period_end"],
    )


async def account(conn: asyncpg.Connection, discord_id: int, *, lock: bool = False) -> Account | None:
    row = await conn.fetchrow(
        f"SELECT {_ACCOUNT} FROM users WHERE discord_id = $1" + (" FOR UPDATE" if lock else ""), discord_id
    )
    return None if row is None else _account(row)


async def account_by_customer(conn: asyncpg.Connection, customer_id: str, *, lock: bool = False) -> Account | None:
    row = await conn.fetchrow(
        f"SELECT {_ACCOUNT} FROM users WHERE stripe_customer_id = $1" + (" FOR UPDATE" if lock else ""), customer_id
    )
    return None if row is None else _account(row)


async def set_customer(conn: asyncpg.Connection, discord_id: int, customer_id: str | None) -> None:
    await conn.execute(
        "UPDATE users SET stripe_customer_id = $2, updated_at = now() WHERE discord_id = $1", discord_id, customer_id
    )


async def save_subscription(
    conn: asyncpg.Connection,
    discord_id: int,
    *,
    tier: str,
    subscription_id: str | None,
    status: str | None,
    period_end: datetime | None,
    cancel_at_period_end: bool,
) -> None:
    await conn.execute(
        """
        UPDATE users SET tier = $2, stripe_subscription_id = $3, subscription_status = $4, current_period_end = $5,
                         cancel_at_period_end = $6, billing_synced_at = now(), updated_at = now()
        WHERE discord_id = $1
        """,
        discord_id,
        tier,
        subscription_id,
        status,
        period_end,
        cancel_at_period_end,
    )


async def record_event(conn: asyncpg.Connection, event_id: str, event_type: str) -> bool:
    """Record an event as applied; False when it already was (a duplicate: change nothing).
    A copy arriving at the same time waits here for the first one's transaction."""
    inserted = await conn.fetchval(
        "INSERT INTO stripe_events (id, type) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING RETURNING true",
        event_id,
        event_type,
    )
    return bool(inserted)


async def set_event_outcome(conn: asyncpg.Connection, event_id: str, outcome: str) -> None:
    await conn.execute("UPDATE stripe_events SET outcome = $2 WHERE id = $1", event_id, outcome)


async def customers_to_reconcile(conn: asyncpg.Connection, *, everyone: bool) -> list[str]:
    """Customers whose state may have drifted: a period that has ended, or a state that is not
    final (anything but active, trialing or canceled); with `everyone`, every customer."""
    if everyone:
        rows = await conn.fetch("SELECT stripe_customer_id FROM users WHERE stripe_customer_id IS NOT NULL")
    else:
        rows = await conn.fetch(
            """
            SELECT stripe_customer_id FROM users
            WHERE stripe_customer_id IS NOT NULL AND stripe_subscription_id IS NOT NULL
              AND (current_period_end < now()
                   OR subscription_status IS NULL
                   OR subscription_status NOT IN ('active', 'trialing', 'canceled'))
            """
        )
    return [r["stripe_customer_id"] for r in rows]
