"""The Discord bot: discord.py wired to Marquee's services."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from bot.card import CARD_ITEMS
from bot.cogs.movienight.live import NightShows
from bot.errors import report_error
from bot.inflight import InFlight
from bot.shards import IdentifyQueue, plan_shards
from bot.tree import MarqueeTree
from services.config import Settings
from services.db.locks import advisory_lock
from services.db.state import get_state, set_state
from services.errors import MarqueeError, OutOfDate
from services.runtime import Services

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.browse",
    "bot.cogs.movies",
    "bot.cogs.search",
    "bot.cogs.ask",
    "bot.cogs.foryou",
    "bot.cogs.history",
    "bot.cogs.similar",
    "bot.cogs.semantic",
    "bot.cogs.watched",
    "bot.cogs.watchlist.cog",
    "bot.cogs.settings.cog",
    "bot.cogs.server_settings",
    "bot.cogs.movienight.cog",
    "bot.cogs.imports.cog",
    "bot.cogs.mydata",
    "bot.cogs.billing",
    "bot.cogs.meta",
)
DRAIN_SECONDS = 10.0


# Marquee has no voice features; don't warn at every start that voice libraries are missing.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False


def carries(message: discord.Message | None, custom_id: str) -> bool:
    """Whether the message carries a component with this custom id."""
    if message is None:
        return False
    view = discord.ui.View.from_message(message, timeout=None)
    return any(getattr(item, "custom_id", None) == custom_id for item in view.walk_children())


def describe_ids(ids: list[int]) -> str:
    return ", ".join(map(str, ids)) if len(ids) <= 8 else f"{ids[0]}…{ids[-1]} ({len(ids)})"


class MarqueeBot(commands.AutoShardedBot):
    """Sharded by default: one process runs every shard it is given (SHARD_COUNT / SHARD_IDS)."""

    tree: MarqueeTree

    def __init__(self, services: Services) -> None:
        settings = services.settings
        if settings.discord_api_base:
            # discord.py reads its REST base from this class attribute.
            discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        intents = discord.Intents.none()
        intents.guilds = True  # no privileged intents: slash commands need none
        super().__init__(
            command_prefix=commands.when_mentioned,
            help_command=None,
            intents=intents,
            tree_cls=MarqueeTree,
            allowed_mentions=discord.AllowedMentions.none(),
            # Usable anywhere: added to a server, or installed by a user for their DMs, group DMs
            # and servers without the bot (there, answers are ephemeral: bot/where.py).
            allowed_installs=app_commands.AppInstallationType(guild=True, user=True),
            allowed_contexts=app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True),
            # Which shards, and how many in all, is decided in setup_hook (bot/shards.py).
            # Nothing here waits on the guild cache; no need to hold on_ready back 2 s for it.
            guild_ready_timeout=0.5,
        )
        self.services = services
        self.synced_commands: bool | None = None  # None until setup_hook decided
        self.command_ids: dict[str, int] = {}  # for clickable </name:id> mentions
        self.inflight = InFlight()
        self.identify: IdentifyQueue | None = None  # set in setup_hook
        self.nights = NightShows(self)
        self._templates: list[re.Pattern[str]] = []  # every DynamicItem's custom id pattern

    @property
    def settings(self) -> Settings:
        return self.services.settings

    async def setup_hook(self) -> None:
        recommended, url, limits = await self.http.get_bot_gateway()
        if self.settings.discord_api_base:
            # With its shards given, AutoShardedBot dials the default gateway: this one's.
            discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
        plan = await plan_shards(self.settings, self.services.redis, recommended)
        self.shard_count, self.shard_ids = plan.count, plan.ids
        self.identify = IdentifyQueue(self.services.redis, int(limits.get("max_concurrency", 1)))
        log.info("running shards %s of %d (%s)", describe_ids(plan.ids), plan.count, plan.process)
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(*CARD_ITEMS)
        self.synced_commands = await self.sync_commands_if_changed()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Wait for this shard's turn in the IDENTIFY queue every process shares."""
        if self.identify is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        await self.identify.wait_turn(shard_id or 0, initial=initial)

    async def sync_commands_if_changed(self) -> bool:
        """Sync the tree only when its definition changed since the last sync (hash in the db).
        Under a lock: of N processes starting at once, one syncs and the others find it done."""
        guild = discord.Object(self.settings.discord_guild_id) if self.settings.discord_guild_id else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        digest = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        key = f"command_tree:{self.application_id}:{guild.id if guild else 'global'}"
        async with self.services.db.connection() as conn, advisory_lock(conn, key):
            unchanged = await get_state(conn, key) == digest
            if unchanged:
                log.info("application commands unchanged; not syncing")
                synced = await self.tree.fetch_commands(guild=guild)
            else:
                synced = await self.tree.sync(guild=guild)
                await set_state(conn, key, digest)
                log.info(
                    "synced %d application commands %s", len(synced), f"to guild {guild.id}" if guild else "globally"
                )
        self.command_ids = {command.name: command.id for command in synced}
        return not unchanged

    async def drain(self, seconds: float = DRAIN_SECONDS) -> tuple[int, int]:
        """Take no new interactions; let those in flight finish (bounded), then show the tallies
        still waiting for their edit. See bot/inflight.py."""
        outcome = await self.inflight.drain(seconds)
        await self.nights.stop()
        return outcome

    async def close(self) -> None:
        await self.nights.stop()  # before the connection closes (a drain already did it)
        await super().close()

    def add_dynamic_items(self, *items: type[discord.ui.DynamicItem[Any]]) -> None:
        super().add_dynamic_items(*items)
        self._templates += [item.__discord_ui_compiled_template__ for item in items]

    async def on_interaction(self, interaction: discord.Interaction[MarqueeBot]) -> None:
        """A button or select of ours that no item matches (an older version's, a forged id such
        as a page past the last), or that is not on the message it came from (a forged id: then
        discord.py drops it), would go unanswered and show "This interaction failed": it is
        answered as out of date instead."""
        if interaction.type is not discord.InteractionType.component:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        if not custom_id.startswith("marquee:"):
            return
        known = any(t.fullmatch(custom_id) for t in self._templates)
        if not known or not carries(interaction.message, custom_id):
            select = data.get("component_type") != discord.ComponentType.button.value
            await report_error(interaction, OutOfDate("menu" if select else "button"))

    async def on_ready(self) -> None:
        log.info("connected as %s (%s) to %d guilds", self.user, self.application_id, len(self.guilds))
        self.nights.start()

    async def on_shard_ready(self, shard_id: int) -> None:
        """Hold the settings of this shard's servers (answers need them before the ack)."""
        guilds = [g.id for g in self.guilds if g.shard_id == shard_id]
        await self.load_server_settings(guilds, f"shard {shard_id}")

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.load_server_settings([guild.id], f"server {guild.id}")

    async def on_guild_remove(self, guild: discord.Guild) -> None:
        self.services.server_settings.forget(guild.id)

    async def load_server_settings(self, guild_ids: list[int], what: str) -> None:
        try:
            found = await self.services.server_settings.load(guild_ids)
        except MarqueeError as exc:
            # Until they load (at the next connect), these servers get the defaults.
            log.warning("could not load the server settings of %s: %s", what, exc)
            return
        log.info("%s: %d servers, %d with their own settings", what, len(guild_ids), found)

    async def on_app_command_completion(
        self, interaction: discord.Interaction[MarqueeBot], command: app_commands.Command[Any, ..., Any]
    ) -> None:
        self.tree.record_success(interaction)
