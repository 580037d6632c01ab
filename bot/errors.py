"""The one error path for interactions: a domain exception carries its own user message and
reaches the user as a short ephemeral answer; the unexpected is logged with its traceback and
the user still hears back."""

from __future__ import annotations

import logging
from contextlib import suppress

import discord
from discord import app_commands

from services.errors import MarqueeError, TMDBAuthError
from services.text import quote

log = logging.getLogger(__name__)

UNEXPECTED = "Something went wrong on our side. It has been logged; please try again."


def user_message(error: BaseException) -> str | None:
    """What the user is told about a known error, or None for the unexpected."""
    if isinstance(error, MarqueeError):
        message = error.user_message
        return f"{message} {error.quota_note}" if message and error.quota_note else message
    if isinstance(error, app_commands.TransformerError):
        return f"“{quote(error.value)}” isn't a valid value there."
    return None


def unwrap(error: BaseException) -> BaseException:
    wrappers = app_commands.CommandInvokeError | app_commands.TransformerError | app_commands.CheckFailure
    while isinstance(error, wrappers) and error.__cause__:
        error = error.__cause__
    return error


def interaction_name(interaction: discord.Interaction) -> str:
    if interaction.command is not None:
        return interaction.command.qualified_name
    data: dict[str, object] = dict(interaction.data or {})
    return str(data.get("custom_id", "unknown"))


async def report_error(interaction: discord.Interaction, error: BaseException) -> None:
    """Tell the user, ephemerally, whatever state the interaction's response is in."""
    error = unwrap(error)
    message = user_message(error)
    name = interaction_name(interaction)
    if message is None:
        log.error("unexpected error in %s", name, exc_info=error)
        message = UNEXPECTED
    elif isinstance(error, TMDBAuthError):
        log.error("TMDB refused the token (check TMDB_TOKEN)")
    else:
        log.info("%s: %s", name, error)
    await send_ephemeral(interaction, message)


async def send_ephemeral(interaction: discord.Interaction, message: str) -> None:
    """An ephemeral answer, even after a public defer (the "thinking…" is removed first)."""
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
        log.warning("could not deliver a message for interaction %s", interaction.id, exc_info=True)
