"""/upgrade and /plan: Marquee Pro through Stripe Checkout, the link sent by DM."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from services.billing.service import PRO_PERKS, Plan
from services.errors import StripeUnavailable

if TYPE_CHECKING:
    from bot.client import MarqueeBot

DMS_CLOSED = 50007


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
        result = await self.bot.services.billing.checkout_url(interaction.user.id)
        if isinstance(result, Plan):
            await interaction.followup.send(
                f"You already have Marquee Pro. It renews on {day(result)}.", ephemeral=True
            )
            return
        view = link_view("Upgrade to Pro", result)
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
            except StripeUnavailable:
                portal = None  # the plan is ours to show; only the button needs Stripe
        if portal:
            await interaction.followup.send(
                embed=plan_embed(plan), view=link_view("Manage billing", portal), ephemeral=True
            )
        else:
            await interaction.followup.send(embed=plan_embed(plan), ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(Billing(bot))
