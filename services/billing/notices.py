"""The DMs billing sends (through the outbox, services/notices.py): Pro started, a payment that
failed (with the billing portal's link), Pro ended."""

from __future__ import annotations

from services.billing.service import PRO_PERKS, BillingService
from services.db.notices import Notice
from services.notices import DM, Renderer

KINDS = ("pro_started", "payment_failed", "pro_ended")


def billing_renderers(billing: BillingService) -> dict[str, Renderer]:
    async def render(notice: Notice) -> DM:
        plan = await billing.plan(notice.discord_id)
        when = f" It renews on {plan.period_end:%-d %B %Y}." if plan.period_end else ""
        if notice.kind == "pro_started":
            return DM(f"🎉 You're now **Marquee Pro**: {PRO_PERKS}{when} Thank you!")
        if notice.kind == "payment_failed":
            portal = await billing.portal_url(plan)
            text = "Your payment for **Marquee Pro** didn't go through. Please update your payment method"
            return DM(f"{text} so Pro carries on.", ("Update payment method", portal) if portal else None)
        return DM("Your **Marquee Pro** has ended. Everything free still works; `/upgrade` any time to come back.")

    return dict.fromkeys(KINDS, render)
