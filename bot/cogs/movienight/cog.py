"""/movienight: the host names up to five members; Marquee picks films for the group's blended
tastes and posts them with a live vote that closes on time (live.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.cogs.movienight.buttons import NightButton
from bot.cogs.movienight.render import night_embed, night_view, open_content
from bot.embeds import md
from bot.filters import filter_options, to_filters
from bot.where import preferences
from services.errors import BadInput
from services.movienight.models import Tally

if TYPE_CHECKING:
    from bot.client import MarqueeBot

MemberOption = discord.User | None


def invited(host: discord.abc.User, named: list[discord.abc.User | None]) -> tuple[list[discord.abc.User], list[str]]:
    """The members invited, and why any named was left out (bots, repeats, the host)."""
    members: list[discord.abc.User] = []
    left_out: list[str] = []
    for user in named:
        if user is None:
            continue
        name = md(user.display_name, 80)
        if user.bot:
            left_out.append(f"{name} (a bot)")
        elif user.id == host.id:
            left_out.append("you (you host it)")
        elif any(m.id == user.id for m in members):
            left_out.append(f"{name} (named twice)")
        else:
            members.append(user)
    return members, list(dict.fromkeys(left_out))


class MovieNight(commands.Cog):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="movienight",
        description="Films for a group movie night, picked from everyone's taste, with a live vote",
        extras={"ai": True},
    )
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.describe(
        member1="Who watches with you",
        member2="Who else watches",
        member3="Who else watches",
        member4="Who else watches",
        member5="Who else watches",
        only_my_services="Only films that stream here on a service one of you has (chosen in /settings)",
        duration="Minutes until the vote closes (default 30)",
        members_only="Only the invited members may vote (default: anyone in the channel)",
    )
    @filter_options
    async def movienight(
        self,
        interaction: discord.Interaction[MarqueeBot],
        member1: discord.User,
        member2: MemberOption = None,
        member3: MemberOption = None,
        member4: MemberOption = None,
        member5: MemberOption = None,
        genre: app_commands.Choice[int] | None = None,
        decade: app_commands.Choice[int] | None = None,
        max_runtime: app_commands.Range[int, 30, 300] | None = None,
        language: app_commands.Range[str, 1, 40] | None = None,
        only_my_services: bool = False,
        duration: app_commands.Range[int, 1, 1440] = 30,
        members_only: bool = False,
    ) -> None:
        services = self.bot.services
        services.movienight.ensure_enabled()
        filters = to_filters(genre, decade, max_runtime, language)
        host = interaction.user
        members, left_out = invited(host, [member1, member2, member3, member4, member5])
        if not members:
            raise BadInput("Name at least one other member to watch with (not a bot, not yourself).")
        assert interaction.guild_id is not None and interaction.channel_id is not None
        await interaction.response.defer(thinking=True)  # always public: the vote is the channel's
        prefs = await preferences(interaction)
        member_ids = [m.id for m in members]
        plan = await services.movienight.plan(
            host.id, member_ids, filters, prefs.locale, only_their_services=only_my_services
        )
        night = await services.movienight.open(
            plan,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            host_id=host.id,
            members=member_ids,
            names={u.id: u.display_name for u in (host, *members)},
            locale=prefs.locale,
            minutes=duration,
            members_only=members_only,
        )
        try:
            message = await interaction.followup.send(
                open_content(night),
                embed=night_embed(night, Tally((0,) * len(night.candidates))),
                view=night_view(night),
                # The invited members are pinged, once: never the host, a role or @everyone.
                allowed_mentions=discord.AllowedMentions(
                    users=[discord.Object(m) for m in member_ids], roles=False, everyone=False, replied_user=False
                ),
                wait=True,
            )
        except discord.HTTPException:
            await services.movienight.discard(night.id)
            raise
        await services.movienight.posted(night.id, message.id)
        self.bot.nights.wake()
        if left_out:
            note = f"Not invited: {', '.join(left_out)}."
            await interaction.followup.send(note, ephemeral=True)


async def setup(bot: MarqueeBot) -> None:
    bot.add_dynamic_items(NightButton)
    await bot.add_cog(MovieNight(bot))
