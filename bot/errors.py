"""The one error path for interactions: domain exceptions become short ephemeral messages, the
unexpected is logged with its traceback and the user still hears back."""

from __future__ import annotations

import logging
from contextlib import suppress

import discord
from discord import app_commands

from services.errors import (
    BadInput,
    DatabaseUnavailable,
    MovieNotFound,
    TMDBAuthError,
    TMDBUnavailable,
)

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."


def _quote(text: object, limit: int = 80) -> str:
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def user_message(error: BaseException) -> str | None:
    """What the user is told about a known error, or None for the unexpected."""
    if isinstance(error, BadInput):
        return error.message
    if isinstance(error, MovieNotFound):
        return f"I couldn't find a film matching “{_quote(error.query)}”."
    if isinstance(error, TMDBAuthError):
        return "Marquee can't reach TMDB right now (the bot's TMDB access was refused). The operator has been told."
    if isinstance(error, TMDBUnavailable):
        if error.retry_after:
            return f"TMDB is busy right now. Try again in {max(1, round(error.retry_after))} seconds."
        return "TMDB isn't answering right now. Try again in a minute."
    if isinstance(error, DatabaseUnavailable):
        return "Marquee's database is unreachable right now. Try again in a minute."
    if isinstance(error, app_commands.TransformerError):
        return f"“{_quote(error.value)}” isn't a valid value there."
    return None


def unwrap(error: BaseException) -> BaseException:
    while isinstance(error, app_commands.CommandInvokeError | app_commands.TransformerError) and error.__cause__:
        error = error.__cause__
    return error


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user, ephemerally, whatever state the interaction's response is in."""
    error = unwrap(error)
    message = user_message(error)
    name = (
        interaction.command.qualified_name
        if interaction.command
        else interaction.data and interaction.data.get("custom_id")
    )
    if message is None:
        log.error("unexpected error in %s", name, exc_info=error)
        message = UNEXPECTED
    elif isinstance(error, TMDBAuthError):
        log.error("TMDB refused the token (check TMDB_TOKEN)")
    else:
        log.info("%s: %s", name, error)
    await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    try:
        if not interaction.response.is_done():
            await interaction.response.send_message(message, ephemeral=True)
            return
        if interaction.response.type is discord.InteractionResponseType.deferred_channel_message:
            # The public "thinking…" would turn our first followup public: remove it first.
            with suppress(discord.HTTPException):
                await interaction.delete_original_response()
        await interaction.followup.send(message, ephemeral=True)
    except discord.HTTPException:
        log.warning("could not deliver an error message for interaction %s", interaction.id, exc_info=True)
