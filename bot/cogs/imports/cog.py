"""/import letterboxd|imdb file: and /import trakt. Each acknowledges at once (ephemeral), reads
and stages the export, then leaves the import to the worker, which edits this answer as it goes."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import embeds
from services.imports.answers import AnswerHandle
from services.imports.report import progress_line
from services.imports.service import Upload

if TYPE_CHECKING:
    from bot.client import MarqueeBot


def answer_of(interaction: discord.Interaction[MarqueeBot]) -> AnswerHandle:
    return AnswerHandle(interaction.application_id, interaction.token)


class Imports(commands.GroupCog, group_name="import", group_description="Bring your film history into Marquee"):
    def __init__(self, bot: MarqueeBot) -> None:
        self.bot = bot

    @app_commands.command(name="letterboxd", description="Import your Letterboxd export (the ZIP, or one CSV of it)")
    @app_commands.describe(
        file="The ZIP from Letterboxd's Settings → Data → Export, or its watched, diary, ratings or watchlist CSV"
    )
    async def letterboxd(self, interaction: discord.Interaction[MarqueeBot], file: discord.Attachment) -> None:
        await self._from_file(interaction, "letterboxd", file)

    @app_commands.command(name="imdb", description="Import your IMDb ratings or watchlist export (CSV)")
    @app_commands.describe(
        file="ratings.csv from IMDb's Your Ratings → Export, or a list export such as your watchlist"
    )
    async def imdb(self, interaction: discord.Interaction[MarqueeBot], file: discord.Attachment) -> None:
        await self._from_file(interaction, "imdb", file)

    @app_commands.command(name="trakt", description="Connect your Trakt account and import its films")
    async def trakt(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        services = self.bot.services
        import_id, code = await services.trakt.start(interaction.user.id)
        minutes = max(1, code.expires_in // 60)
        await interaction.edit_original_response(
            content=(
                f"🔗 Go to <{embeds.plain(code.verification_url, 200)}> and enter the code "
                f"**{embeds.md(code.user_code, 20)}** within {minutes} minutes. Your films are imported as soon "
                "as you approve, and new ones every hour after that (disconnect any time in `/mydata`)."
            )
        )
        await services.imports.queue(import_id, answer_of(interaction))

    async def _from_file(
        self, interaction: discord.Interaction[MarqueeBot], source: str, file: discord.Attachment
    ) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        imports = self.bot.services.imports
        staged = await imports.stage_file(interaction.user.id, source, Upload(file.filename, file.size, file.url))
        # Shown before the worker has the job, so its edits always come after this one.
        await interaction.edit_original_response(content=progress_line(source, 0, staged.films))
        await imports.queue(staged.import_id, answer_of(interaction))


async def setup(bot: MarqueeBot) -> None:
    cog = Imports(bot)
    if not bot.services.trakt.enabled and cog.app_command is not None:  # TRAKT_* and MARQUEE_SECRET_KEY unset
        cog.app_command.remove_command("trakt")
    await bot.add_cog(cog)
