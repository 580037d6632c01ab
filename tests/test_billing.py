"""Pro end to end: /upgrade and /plan through the emulator, the official stripe client against
the fake Stripe, signed webhooks into the real web app, DMs sent by the real arq worker."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from discord import app_commands
from discord.ext import commands

from bot.gate import pro_command
from services.config import Settings
from tests.billing_env import Billing, billing_loop
from tests.fakes.stripe import FakeStripe
from tests.helpers import answer, embed, eventually, is_ephemeral, link_buttons, until


def dm_texts(emulator: Any, user: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in emulator.dms(user)]


async def upgrade(emulator: Any, loop: Billing, user: dict[str, Any]) -> str:
    """/upgrade as `user`; the checkout session id from the link they were DMed."""
    msg = await answer(emulator, "upgrade", user=user)
    assert is_ephemeral(msg) and msg["content"] == "Check your DMs: I've sent you the checkout link.", msg
    url = link_buttons(emulator.dms(user)[-1])[0]["url"]
    return str(url.rsplit("/", 1)[-1])


async def test_upgrade_dms_the_checkout_link_and_payment_makes_the_user_pro(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    alice = emulator.alice
    async with billing_loop(settings, stripe_api, emulator) as loop:
        plan = await answer(emulator, "plan")
        assert embed(plan)["title"] == "Your plan: Free" and "`/upgrade`" in embed(plan)["description"]
        session_id = await upgrade(emulator, loop, alice)
        dm = emulator.dms(alice)[-1]
        assert "checkout" in dm["content"] and link_buttons(dm)[0]["label"] == "Upgrade to Pro"
        customer = stripe_api.posts("/customers")[0]
        assert customer["metadata"] == {"discord_id": alice["id"]}
        session = stripe_api.sessions[session_id]
        assert session["mode"] == "subscription" and session["client_reference_id"] == alice["id"]
        assert session["success_url"].startswith("https://marquee.example/billing/success")
        assert session["cancel_url"] == "https://marquee.example/billing/cancel"

        assert await loop.send(*stripe_api.complete_checkout(session_id)) == [200, 200, 200]
        assert await loop.tier(int(alice["id"])) == "pro"
        await until(lambda: any("You're now **Marquee Pro**" in t for t in dm_texts(emulator, alice)), what="the DM")
        plan = await answer(emulator, "plan")
        assert embed(plan)["title"] == "Your plan: Marquee Pro"
        assert any(f["name"] == "Billing" and f["value"].startswith("Renews on ") for f in embed(plan)["fields"])
        assert link_buttons(plan)[0]["label"] == "Manage billing"
        again = await answer(emulator, "upgrade")
        assert again["content"].startswith("You already have Marquee Pro. It renews on ")

        # The same events again (Stripe retries): nothing changes, and no second DM.
        sub_id = next(iter(stripe_api.subscriptions))
        again_created = stripe_api.event("customer.subscription.created", stripe_api.subscriptions[sub_id])
        assert await loop.send(again_created) == [200]
        async with loop.services.db.connection() as conn:
            assert await conn.fetchval("SELECT count(*) FROM notices") == 1

        # A failed payment: a DM with the portal link, and past_due is not Pro (see README).
        await loop.send(*stripe_api.fail_payment(sub_id))
        assert await loop.tier(int(alice["id"])) == "free"
        await until(lambda: any("didn't go through" in t for t in dm_texts(emulator, alice)), what="the DM")
        failed = next(m for m in emulator.dms(alice) if "didn't go through" in str(m["content"]))
        assert link_buttons(failed)[0]["url"].startswith("https://billing.stripe.com/")
        # Paid again, then cancelled: Pro again, then free with a DM.
        await loop.send(stripe_api.set_status(sub_id, "active"))
        assert await loop.tier(int(alice["id"])) == "pro"
        await loop.send(stripe_api.cancel(sub_id))
        assert await loop.tier(int(alice["id"])) == "free"
        await until(lambda: sum("has ended" in t for t in dm_texts(emulator, alice)) == 2, what="the DMs")
        started = [t for t in dm_texts(emulator, alice) if "You're now" in t]
        assert len(started) == 2  # one per change to Pro, never one per event


async def test_closed_dms_get_the_link_ephemerally(settings: Settings, stripe_api: FakeStripe, emulator: Any) -> None:
    emulator.block_dms(emulator.bob)
    async with billing_loop(settings, stripe_api, emulator):
        msg = await answer(emulator, "upgrade", user=emulator.bob)
        assert is_ephemeral(msg) and msg["content"].startswith("Your DMs are closed, so here is the link.")
        assert link_buttons(msg)[0]["url"].startswith("https://checkout.stripe.com/c/pay/")


async def test_upgrade_twice_quickly_makes_one_session(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    async with billing_loop(settings, stripe_api, emulator):
        recs = [await emulator.invoke("upgrade") for _ in range(2)]
        for rec in recs:
            await rec.wait_for(lambda rec=rec: bool(rec.messages and rec.messages[-1].get("content")), 10, "answer")
        assert len(stripe_api.sessions) == 1 and len(stripe_api.customers) == 1
        urls = {link_buttons(m)[0]["url"] for m in emulator.dms(emulator.alice)}
        assert len(urls) == 1


async def test_stripe_down_during_upgrade_is_a_short_message(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    async with billing_loop(settings, stripe_api, emulator):
        stripe_api.fail(500, times=10)
        msg = await answer(emulator, "upgrade")
        assert is_ephemeral(msg) and msg["content"].startswith("Payments are unavailable right now")
        assert emulator.dms(emulator.alice) == []


async def test_billing_off_upgrade_says_everything_is_open(bot: Any, emulator: Any) -> None:
    msg = await answer(emulator, "upgrade")
    assert is_ephemeral(msg) and msg["content"].startswith("This bot doesn't sell a Pro plan")
    plan = await answer(emulator, "plan")
    assert embed(plan)["title"] == "Your plan: Free"


class ProDemo(commands.Cog):
    """A Pro command as every Pro command is written (the gate, then the work)."""

    @app_commands.command(name="prodemo", description="A Pro-only command for the test")
    @pro_command()
    async def prodemo(self, interaction: Any, query: str) -> None:
        await interaction.followup.send(f"Pro answer for {query}")


async def add_pro_command(bot: Any, emulator: Any) -> None:
    await bot.add_cog(ProDemo())
    await bot.tree.sync()
    await until(lambda: any(c["name"] == "prodemo" for c in emulator.commands), what="the sync")


async def test_the_pro_gate_upsells_free_users_and_opens_once_they_pay(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    async with billing_loop(settings, stripe_api, emulator) as loop:
        await add_pro_command(loop.bot, emulator)
        rec = await emulator.invoke("prodemo", {"query": "x"})
        assert await rec.wait_callback() == 5  # deferred before the tier is read
        msg = await answer(emulator, "prodemo", {"query": "films about obsession"})
        assert is_ephemeral(msg)
        assert msg["content"] == "`/prodemo` is part of Marquee Pro. `/upgrade` to get it (and no daily AI cap)."
        session_id = await upgrade(emulator, loop, emulator.alice)
        await loop.send(*stripe_api.complete_checkout(session_id))
        msg = await answer(emulator, "prodemo", {"query": "films about obsession"})
        assert not is_ephemeral(msg) and msg["content"] == "Pro answer for films about obsession"


async def test_with_billing_off_the_pro_gate_is_open(bot: Any, emulator: Any) -> None:
    await add_pro_command(bot, emulator)
    msg = await answer(emulator, "prodemo", {"query": "anything"})
    assert msg["content"] == "Pro answer for anything"


async def test_a_notice_to_closed_dms_is_recorded_and_never_fails_the_webhook(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    bob = emulator.bob
    emulator.block_dms(bob)
    async with billing_loop(settings, stripe_api, emulator) as loop:
        msg = await answer(emulator, "upgrade", user=bob)
        session_id = link_buttons(msg)[0]["url"].rsplit("/", 1)[-1]
        assert await loop.send(*stripe_api.complete_checkout(session_id)) == [200, 200, 200]
        assert await loop.tier(int(bob["id"])) == "pro"

        async def failure() -> str | None:
            async with loop.services.db.connection() as conn:
                return await conn.fetchval("SELECT failure FROM notices WHERE discord_id = $1", int(bob["id"]))

        assert await eventually(failure) == "the user's DMs are closed"
        assert emulator.dms(bob) == []


async def pay(loop: Billing, session_id: str) -> str:
    """The user pays the checkout; Stripe's events are delivered. Their subscription's id."""
    events = loop.stripe.complete_checkout(session_id)
    assert await loop.send(*events) == [200, 200, 200]
    return str(events[1]["data"]["object"]["id"])


@pytest.mark.parametrize(
    ("status", "said"),
    [
        ("past_due", "Your last payment failed"),
        ("unpaid", "Your last payment failed"),
        ("incomplete", "Your first payment for Pro hasn't gone through yet"),
        ("paused", "Your Pro subscription is paused"),
    ],
)
async def test_upgrade_never_opens_a_second_subscription_beside_an_unpaid_one(
    settings: Settings, stripe_api: FakeStripe, emulator: Any, status: str, said: str
) -> None:
    alice = emulator.alice
    async with billing_loop(settings, stripe_api, emulator) as loop:
        sub_id = await pay(loop, await upgrade(emulator, loop, alice))
        assert await loop.tier(int(alice["id"])) == "pro"
        stripe_api.set_status(sub_id, status)  # the webhook is lost: only Stripe knows
        sessions = len(stripe_api.sessions)
        msg = await answer(emulator, "upgrade")
        assert is_ephemeral(msg) and msg["content"].startswith(said), msg["content"]
        assert "no new" in msg["content"]
        button = link_buttons(msg)[0]
        assert button["label"] == "Fix billing" and button["url"].startswith("https://billing.stripe.com/")
        assert len(stripe_api.sessions) == sessions and len(stripe_api.posts("/checkout/sessions")) == sessions
        assert len(stripe_api.live_subscriptions(stripe_api.subscriptions[sub_id]["customer"])) == 1
        assert await loop.tier(int(alice["id"])) == "free"  # read from Stripe, and stored


async def test_a_customer_deleted_at_stripe_is_forgotten_and_upgrade_makes_a_new_one(
    settings: Settings, stripe_api: FakeStripe, emulator: Any
) -> None:
    alice, bob = emulator.alice, emulator.bob
    async with billing_loop(settings, stripe_api, emulator) as loop:
        await upgrade(emulator, loop, alice)
        gone = next(iter(stripe_api.customers))
        stripe_api.delete_customer(gone)  # in the dashboard; no webhook reaches us
        session_id = await upgrade(emulator, loop, alice)  # a new customer, and the link by DM
        new = stripe_api.sessions[session_id]["customer"]
        assert new != gone and stripe_api.sessions[session_id]["status"] == "open"
        async with loop.services.db.connection() as conn:
            stored = await conn.fetchval("SELECT stripe_customer_id FROM users WHERE discord_id = $1", int(alice["id"]))
        assert stored == new

        # A Pro user whose customer is deleted: customer.deleted (and the end of the subscription)
        # reach the webhook; the tier follows Stripe, the customer is forgotten, /upgrade works.
        await pay(loop, await upgrade(emulator, loop, bob))
        bob_customer = next(
            c for c, v in stripe_api.customers.items() if v.get("metadata") == {"discord_id": bob["id"]}
        )
        assert await loop.send(*stripe_api.delete_customer(bob_customer)) == [200, 200]
        assert await loop.tier(int(bob["id"])) == "free"
        async with loop.services.db.connection() as conn:
            assert (
                await conn.fetchval("SELECT stripe_customer_id FROM users WHERE discord_id = $1", int(bob["id"]))
                is None
            )
        await until(lambda: any("has ended" in t for t in dm_texts(emulator, bob)), what="the DM")
        again = await upgrade(emulator, loop, bob)
        assert stripe_api.sessions[again]["customer"] not in (bob_customer, gone)


async def test_a_link_sent_is_always_an_open_session(settings: Settings, stripe_api: FakeStripe, emulator: Any) -> None:
    alice = emulator.alice
    async with billing_loop(settings, stripe_api, emulator) as loop:
        first = await upgrade(emulator, loop, alice)
        sub_id = await pay(loop, first)
        await loop.send(stripe_api.cancel(sub_id))  # Pro ended, within the same 10 minutes
        second = await upgrade(emulator, loop, alice)
        assert second != first and stripe_api.sessions[second]["status"] == "open"
        stripe_api.expire_session(second)
        third = await upgrade(emulator, loop, alice)
        assert third not in (first, second) and stripe_api.sessions[third]["status"] == "open"
        # The double-click protection holds for the new session too.
        assert await upgrade(emulator, loop, alice) == third


async def test_stripe_refusing_a_request_is_not_stripe_being_down(
    settings: Settings, stripe_api: FakeStripe, emulator: Any, caplog: pytest.LogCaptureFixture
) -> None:
    async with billing_loop(settings, stripe_api, emulator):
        stripe_api.fail(400, times=1)
        with caplog.at_level(logging.ERROR):
            msg = await answer(emulator, "upgrade")
        assert is_ephemeral(msg) and msg["content"].startswith("Stripe turned down this payment request")
        assert "isn't answering" not in msg["content"]
        assert any("req_fake" in r.getMessage() for r in caplog.records)  # Stripe's request id, for the operator
        assert stripe_api.secret_key not in caplog.text
        stripe_api.fail(503, times=10)
        msg = await answer(emulator, "upgrade")
        assert msg["content"].startswith("Payments are unavailable right now (Stripe isn't answering)")
        assert emulator.dms(emulator.alice) == []
