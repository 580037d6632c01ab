"""/upgrade and /plan: Marquee Pro through Stripe Checkout, the link sent by DM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from services.billing.service import PRO_PERKS, NeedsAttention, Plan
from services.errors import StripeRefused, StripeUnavailable

if TYPE_CHECKING:
    from bot.client import MarqueeBot

DMS_CLOSED = 50007
# What /upgrade says instead of a second Checkout while Stripe still holds an unpaid subscription.
ATTENTION = {
    "past_due": "Your last payment failed, so Pro is on hold. Update your payment method in the billing portal and "
    "your subscription carries on: no new one is needed.",
    "unpaid": "Your last payment failed, so Pro is on hold. Update your payment method in the billing portal and "
    "your subscription carries on: no new one is needed.",
    "incomplete": "Your first payment for Pro hasn't gone through yet. Finish it in the billing portal: no new "
    "subscription is needed.",
    "paused": "Your Pro subscription is paused. Resume it in the billing portal: no new subscription is needed.",
}


def link_view(label: str, url: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(discord.ui.Button(label=label, url=url, emoji="⭐"))
    return view


def day(plan: Plan) -> str:
    return embeds.date_text(plan.period_end.date()) if plan.period_end else "not known yet"


def plan_embed(plan: Plan) -> discord.Embed:
    if plan.tier == "pro":
        renewal = f"Ends on {day(plan)}" if plan.cancel_at_period_end else f"Renews on {day(plan)}"
        embed = discord.Embed(title="Your plan: Marquee Pro", description=f"You have {PRO_PERKS}", colour=embeds.BRAND)
        embed.add_field(name="Subscription", value=embeds.md(plan.status or "active", 40), inline=True)
        embed.add_field(name="Billing", value=renewal, inline=True)
        return embed
    embed = discord.Embed(
        title="Your plan: Free",
        description=f"Everything in Marquee is free, with a daily AI allowance. **Pro** gives you {PRO_PERKS}\n"
        "Run `/upgrade` to get it.",
        colour=embeds.BRAND,
    )
    if plan.status:
        embed.add_field(name="Last subscription", value=embeds.md(plan.status, 40), inline=True)
    return embed


class Billing(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="upgrade", description="Get Marquee Pro: the checkout link comes by DM")
    async def upgrade(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.bot.services.billing.checkout(interaction.user.id)
        if isinstance(result, Plan):
            await interaction.followup.send(
                f"You already have Marquee Pro. It renews on {day(result)}.", ephemeral=True
            )
            return
        if isinstance(result, NeedsAttention):
            text = ATTENTION.get(result.status, ATTENTION["past_due"])
            if result.portal_url is None:
                await interaction.followup.send(f"{text} Run `/plan` in a minute for the billing link.", ephemeral=True)
            else:
                view = link_view("Fix billing", result.portal_url)
                await interaction.followup.send(text, view=view, ephemeral=True)
            return
        view = link_view("Upgrade to Pro", result.url)
        text = f"Here is your Marquee Pro checkout. Pro gives you {PRO_PERKS}"
        try:
            await interaction.user.send(text, view=view)
        except discord.Forbidden as exc:
            if exc.code != DMS_CLOSED:
                raise
            await interaction.followup.send(
                f"Your DMs are closed, so here is the link. {text}", view=view, ephemeral=True
            )
            return
        await interaction.followup.send("Check your DMs: I've sent you the checkout link.", ephemeral=True)

    @app_commands.command(name="plan", description="Your Marquee plan, renewal date and billing")
    async def plan(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        billing = self.bot.services.billing
        plan = await billing.plan(interaction.user.id)
        portal = None
        if billing.enabled and plan.has_subscription:
            try:
                portal = await billing.portal_url(plan)
            except (StripeUnavailable, StripeRefused):
                portal = None  # the plan is ours to show; only the button needs Stripe
        if portal:
            await interaction.followup.send(
                embed=plan_embed(plan), view=link_view("Manage billing", portal), ephemeral=True
            )
        else:
            await interaction.followup.send(embed=plan_embed(plan), ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Billing(bot))
