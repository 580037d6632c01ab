"""/mydata: what Marquee keeps about you, counted, with Download, Delete everything (confirmed)
and Disconnect Trakt. Everything here is ephemeral."""

from __future__ import annotations

import io
import re
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.components import MarqueeItem, reported, services_of
from services.mydata.service import MyData

if TYPE_CHECKING:
    from bot.client import MarqueeBot

LABELS = {
    "download": ("Download", "📦", discord.ButtonStyle.primary),
    "delete": ("Delete everything…", "🗑️", discord.ButtonStyle.danger),
    "confirm": ("Yes, delete everything", "🗑️", discord.ButtonStyle.danger),
    "cancel": ("Keep my data", None, discord.ButtonStyle.secondary),
    "trakt": ("Disconnect Trakt", "🔌", discord.ButtonStyle.secondary),
}
CONFIRM = (
    "This deletes **everything** Marquee keeps about you: searches, watch history, ratings, "
    "watchlist, settings, taste profile, imports, movie nights you hosted, your votes and your Trakt "
    "connection. It can't be undone. "
    "(Stripe keeps its own invoices.)"
)


def data_embed(data: MyData) -> discord.Embed:
    def yes_no(value: bool) -> str:
        return "yes" if value else "no"

    embed = discord.Embed(title="What Marquee keeps about you", colour=embeds.BRAND)
    lines = [
        f"Searches: **{data.searches:,}**",
        f"Watched films: **{data.watched:,}**",
        f"Ratings and 👍/👎: **{data.ratings:,}**",
        f"Watchlist: **{data.watchlist:,}**",
        f"Imports: **{data.imports:,}**",
        f"Movie nights hosted: **{data.movie_nights:,}** · votes: **{data.votes:,}**",
        f"Settings saved: **{yes_no(data.settings)}**",
        f"Taste profile: **{yes_no(data.taste_profile)}**",
        f"Trakt connected: **{yes_no(data.trakt)}**",
        f"Plan: **{data.plan.title()}**",
    ]
    embed.description = "\n".join(lines)
    embed.set_footer(text="Download gives you all of it; Delete everything removes all of it.")
    return embed


def data_view(data: MyData, owner_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(MyDataButton("download", owner_id))
    if data.trakt:
        view.add_item(MyDataButton("trakt", owner_id))
    view.add_item(MyDataButton("delete", owner_id, disabled=not data.known))
    return view


class MyDataButton(
    MarqueeItem,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"marquee:mydata:(?P<action>download|delete|confirm|cancel|trakt):(?P<owner>\d{1,20})",
):
    def __init__(self, action: str, owner_id: int, *, disabled: bool = False) -> None:
        label, emoji, style = LABELS[action]
        button: discord.ui.Button[Any] = discord.ui.Button(
            label=label, emoji=emoji, style=style, custom_id=f"marquee:mydata:{action}:{owner_id}", disabled=disabled
        )
        super().__init__(button)
        self.action, self.owner_id = action, owner_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MyDataButton:
        return cls(match["action"], int(match["owner"]))

    @reported
    async def callback(self, interaction: discord.Interaction) -> None:
        services = services_of(interaction)
        user = interaction.user.id
        if self.action == "delete":
            view = discord.ui.View(timeout=None)
            view.add_item(MyDataButton("confirm", user))
            view.add_item(MyDataButton("cancel", user))
            await interaction.response.send_message(CONFIRM, view=view, ephemeral=True)
            return
        if self.action == "cancel":
            await interaction.response.edit_message(content="Nothing was deleted.", view=None)
            return
        await interaction.response.defer(ephemeral=True, thinking=True)
        if self.action == "download":
            data = await services.mydata.export(user)
            file = discord.File(io.BytesIO(data), filename="marquee-data.zip")
            await interaction.followup.send("📦 Everything Marquee keeps about you:", file=file, ephemeral=True)
        elif self.action == "confirm":
            await services.mydata.delete(user)
            await interaction.followup.send(
                "🗑️ Done: everything Marquee kept about you is deleted. If you use Marquee again, you start fresh.",
                ephemeral=True,
            )
        else:  # trakt
            await services.trakt.disconnect(user)
            await interaction.followup.send("🔌 Trakt is disconnected, and Marquee's access revoked.", ephemeral=True)


class MyDataCog(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="mydata", description="What Marquee keeps about you: see, download or delete it")
    async def mydata(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        data = await self.bot.services.mydata.summary(interaction.user.id)
        await interaction.followup.send(
            embed=data_embed(data), view=data_view(data, interaction.user.id), ephemeral=True
        )


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(MyDataButton)
    await bot.add_cog(MyDataCog(bot))
