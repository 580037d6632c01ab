"""DISCORD_GUILD_ID syncs the commands to that guild only."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.client import MarqueeBot
from services.runtime import Services


async def test_commands_sync_to_the_configured_guild(services: Services, emulator: Any) -> None:
    services.settings.discord_api_base = emulator.api_base
    services.settings.discord_guild_id = emulator.guild_id
    bot = MarqueeBot(services)
    task = asyncio.create_task(bot.start("emulator-token"))
    try:
        await emulator.wait_ready()
        await emulator.wait_commands()
        guild_names = {c["name"] for c in emulator.guild_commands[emulator.guild_id]}
        assert guild_names == {"browse", "movie", "trailer", "search", "watched", "help"}
        assert emulator.global_commands == []
        assert bot.synced_commands is True
    finally:
        await asyncio.wait_for(bot.wait_until_ready(), 10)
        await bot.close()
        await task
