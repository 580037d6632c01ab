"""DISCORD_GUILD_ID syncs the commands to that guild only."""

from __future__ import annotations

from typing import Any

from services.runtime import Services
from tests.conftest import connected_bot
from tests.helpers import COMMAND_NAMES


async def test_commands_sync_to_the_configured_guild(services: Services, emulator: Any) -> None:
    services.settings.discord_guild_id = emulator.guild_id
    async with connected_bot(services, emulator) as bot:
        guild_names = {c["name"] for c in emulator.guild_commands[emulator.guild_id]}
        assert guild_names == COMMAND_NAMES
        assert emulator.global_commands == []
        assert bot.synced_commands is True
