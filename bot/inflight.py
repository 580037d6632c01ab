"""Interactions in flight, so a stop lets them finish: on SIGTERM the bot takes no new ones,
waits (bounded) for those running, and tells the user of any it had to abandon."""

from __future__ import annotations

import asyncio
import logging

import discord

from bot.errors import send_ephemeral
from services.errors import ShuttingDown

log = logging.getLogger(__name__)

ABANDONED = "Marquee had to restart before it could finish this. It may not have been saved; please run it again."


class InFlight:
    def __init__(self) -> None:
        self.draining = False
        self._running: dict[asyncio.Task[object], discord.Interaction] = {}

    def __len__(self) -> int:
        return len(self._running)

    def admit(self, interaction: discord.Interaction) -> None:
        """Called from the task that runs the interaction; ShuttingDown once a stop began."""
        if self.draining:
            raise ShuttingDown()
        task = asyncio.current_task()
        if task is not None and task not in self._running:
            self._running[task] = interaction
            task.add_done_callback(self._running.pop)

    async def drain(self, seconds: float) -> tuple[int, int]:
        """Stop admitting, wait up to `seconds`; returns (finished, abandoned)."""
        self.draining = True
        running = dict(self._running)
        if not running:
            return 0, 0
        log.info("waiting up to %.0fs for %d interactions in flight", seconds, len(running))
        done, pending = await asyncio.wait(running, timeout=seconds)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending, timeout=2)
            # Their users were acknowledged; they must hear that the work did not happen.
            await asyncio.gather(*(send_ephemeral(running[task], ABANDONED) for task in pending))
        log.info("%d interactions finished, %d abandoned", len(done), len(pending))
        return len(done), len(pending)
