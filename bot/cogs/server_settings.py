"""/server-settings: a server's defaults for its members (region, language), whether AI
commands run there, and whether answers are public. Manage Server only: Discord hides it from
other members, and the bot checks again (a server's override can let anyone run it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from bot.cogs.settings.cog import language_choices, region_choices
from bot.cogs.settings.panel import language_label, on_off, region_label
from services.errors import NeedsManageServer
from services.server_settings import ServerSettings

if TYPE_CHECKING:
    from bot.client import MarqueeBot


class ServerSettingsCog(commands.Cog, name="ServerSettings"):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(
        name="server-settings", description="This server's defaults: region, language, AI commands, public answers"
    )
    @app_commands.allowed_contexts(guilds=True, dms=False, private_channels=False)
    @app_commands.allowed_installs(guilds=True, users=False)
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.describe(
        region="The region for members who have not chosen their own",
        language="The language for members who have not chosen their own",
        ai_commands="Whether AI commands (/ask, /foryou, /semantic, /movienight) run here",
        answers="Whether answers are posted for everyone, or shown only to whoever asked",
    )
    @app_commands.choices(
        answers=[
            app_commands.Choice(name="Public (for everyone in the channel)", value="public"),
            app_commands.Choice(name="Ephemeral (only for whoever asked)", value="ephemeral"),
        ]
    )
    @app_commands.autocomplete(region=region_choices, language=language_choices)
    async def server_settings(
        self,
        interaction: discord.Interaction[MarqueeBot],
        region: app_commands.Range[str, 1, 100] | None = None,
        language: app_commands.Range[str, 1, 100] | None = None,
        ai_commands: bool | None = None,
        answers: app_commands.Choice[str] | None = None,
    ) -> None:
        # Discord's default_member_permissions can be overridden per server: check it ourselves.
        permissions = interaction.permissions
        if not (permissions.manage_guild or permissions.administrator):
            raise NeedsManageServer()
        assert interaction.guild_id is not None
        await interaction.response.defer(ephemeral=True, thinking=True)
        saved = await self.bot.services.server_settings.save(
            interaction.guild_id,
            interaction.user.id,
            region=region,
            language=language,
            ai_commands=ai_commands,
            answers=answers.value if answers else None,
        )
        changed = not (region is None and language is None and ai_commands is None and answers is None)
        await interaction.followup.send(embed=await self.settings_embed(saved, changed), ephemeral=True)

    async def settings_embed(self, server: ServerSettings, changed: bool) -> discord.Embed:
        services = self.bot.services
        defaults = services.user_settings.defaults

        def default(value: str | None, label: str) -> str:
            return label if value else f"{label} (the bot's default)"

        region = await region_label(services, server.region or defaults.region)
        language = await language_label(services, server.language or defaults.language)
        embed = discord.Embed(title="✅ Saved: this server's settings" if changed else "This server's settings")
        embed.colour = embeds.BRAND
        embed.add_field(name="Region", value=default(server.region, embeds.md(region, 200)))
        embed.add_field(name="Language", value=default(server.language, embeds.md(language, 200)))
        embed.add_field(name="AI commands", value=on_off(server.ai_commands))
        embed.add_field(
            name="Answers",
            value="Ephemeral: shown only to whoever asked" if server.ephemeral else "Public: posted for everyone",
        )
        embed.set_footer(text="Members' own /settings win over the server's region and language.")
        return embed


async def setup(bot: MarqueeBot) -> None:
    await bot.add_cog(ServerSettingsCog(bot))
