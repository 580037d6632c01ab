"""Local Discord API emulator for acceptance-testing discord.py (2.7.x) bots on loopback.

The real, unmodified discord.py client talks to this server as if it were Discord:

* REST under ``/api/v10`` (point ``discord.http.Route.BASE`` at ``emu.api_base``);
* the gateway websocket at ``/gateway`` (``GET /gateway/bot`` returns its URL; a
  non-sharded discord.py client never asks for it and dials
  ``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY``, so a bot must set that too).

Tests drive it through the Python API::

    async with DiscordEmulator() as emu:
        ...start the bot against emu.api_base...
        await emu.wait_ready()
        rec = await emu.invoke('ping')
        msg = await rec.wait_final()
        assert msg['content'] == 'pong'

Everything the bot sends is recorded: interaction callbacks, edits and followups on the
``InteractionRecord``; channel and DM messages on the emulator; every REST call in
``emu.requests`` (unknown routes also in ``emu.unhandled``, emulator failures in ``emu.errors``).
"""

from __future__ import annotations

import asyncio
import copy
import json
import mimetypes
import re
import secrets
import socket
import time
import traceback
import uuid
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import BodyPartReader, WSMsgType, web

__all__ = ["ApiError", "DiscordEmulator", "InteractionRecord", "RequestLog"]

API_PREFIX = "/api/v10"
IDENTIFY_INTERVAL = 5.0  # seconds between two IDENTIFYs of one bucket (Discord's session start limit)
DISCORD_EPOCH_MS = 1420070400000

# Gateway opcodes.
OP_DISPATCH, OP_HEARTBEAT, OP_IDENTIFY, OP_PRESENCE, OP_VOICE_STATE = 0, 1, 2, 3, 4
OP_RESUME, OP_RECONNECT, OP_REQUEST_MEMBERS, OP_INVALID_SESSION = 6, 7, 8, 9
OP_HELLO, OP_HEARTBEAT_ACK = 10, 11

# Gateway intents the emulator looks at.
INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_PRESENCES = 1 << 8
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_MESSAGE_CONTENT = 1 << 15
PRIVILEGED_INTENTS = INTENT_GUILD_MEMBERS | INTENT_GUILD_PRESENCES | INTENT_MESSAGE_CONTENT

# Interaction types and interaction callback (response) types.
IT_COMMAND, IT_COMPONENT, IT_AUTOCOMPLETE, IT_MODAL_SUBMIT = 2, 3, 4, 5
CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE = 4, 5, 6, 7
CB_AUTOCOMPLETE, CB_MODAL = 8, 9
ALLOWED_CALLBACKS = {
    IT_COMMAND: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_MODAL},
    IT_COMPONENT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE, CB_MODAL},
    IT_AUTOCOMPLETE: {CB_AUTOCOMPLETE},
    IT_MODAL_SUBMIT: {CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE},
}

# Message flags.
FLAG_SUPPRESS_EMBEDS, FLAG_EPHEMERAL, FLAG_LOADING = 1 << 2, 1 << 6, 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS, FLAG_COMPONENTS_V2 = 1 << 12, 1 << 15
SETTABLE_FLAGS = FLAG_SUPPRESS_EMBEDS | FLAG_EPHEMERAL | FLAG_SUPPRESS_NOTIFICATIONS | FLAG_COMPONENTS_V2


def _bits(*positions: int) -> int:
    return sum(1 << p for p in positions)


# Permission sets (bit positions as documented by Discord).
PERM_ADMINISTRATOR = 1 << 3
PERM_MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 51) - 1
EVERYONE_PERMISSIONS = _bits(0, 6, 9, 10, 11, 14, 15, 16, 18, 20, 21, 25, 26, 31, 35, 37, 38, 39, 46, 49)
BOT_PERMISSIONS = EVERYONE_PERMISSIONS | _bits(13)  # + MANAGE_MESSAGES

# Application flags: limited privileged intents + command badge (an unverified bot).
APP_FLAGS = _bits(13, 15, 19, 23)

# Option types of application commands.
OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP, OPT_STRING, OPT_INTEGER, OPT_BOOLEAN = 1, 2, 3, 4, 5
OPT_USER, OPT_CHANNEL, OPT_ROLE, OPT_MENTIONABLE, OPT_NUMBER, OPT_ATTACHMENT = 6, 7, 8, 9, 10, 11

SELECT_TYPES = {3, 5, 6, 7, 8}

# Where an interaction happens (``invoke(where=...)``) -> its interaction context type: 0 GUILD,
# 1 BOT_DM, 2 PRIVATE_CHANNEL. 'guild' is the emulator's guild (the bot is in it); 'foreign_guild'
# is a server the bot is not in, reachable only through a user install; 'private_channel' is a
# group DM the bot is not in (user install too).
CONTEXTS = {"guild": 0, "dm": 1, "private_channel": 2, "foreign_guild": 0}
INSTALL_GUILD, INSTALL_USER = 0, 1
TOKEN_RE = r"[A-Za-z0-9._~-]+"
# What Discord's CDN answers for a signed attachment URL that expired or was removed.
CDN_GONE = "This content is no longer available."
UPLOAD_LIMIT = 10 * 1024 * 1024  # bytes a bot may upload per file without a boosted server


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()


class _Snowflakes:
    """Monotonic, unique Discord-style snowflake ids."""

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        candidate = (int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22 | (1 << 17)
        self._last = max(candidate, self._last + 1)
        return self._last


class ApiError(Exception):
    """Raised by REST handlers; rendered as Discord's JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: dict | None = None) -> None:
        super().__init__(f"{status} {code} {message}")
        self.status, self.code, self.message, self.errors = status, code, message, errors

    def body(self) -> dict:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def _form_error(path: str, code: str, message: str) -> ApiError:
    """A 50035 'Invalid Form Body' error for one field (path like 'data.content')."""
    errors: dict[str, Any] = {"_errors": [{"code": code, "message": message}]}
    for part in reversed(path.split(".")):
        errors = {part: errors}
    return ApiError(400, 50035, "Invalid Form Body", errors)


class RequestLog:
    """One REST request the bot made."""

    __slots__ = ("at", "files", "json", "method", "path", "query", "status")

    def __init__(self, method: str, path: str, query: dict, body: Any, files: list, status: int) -> None:
        self.method, self.path, self.query, self.json = method, path, query, body
        self.files, self.status = files, status
        self.at = time.perf_counter()

    def __repr__(self) -> str:
        return f"<RequestLog {self.method} {self.path} -> {self.status}>"


class RouteFault:
    """The next ``times`` requests matching ``method`` and ``path`` (a regex on the path after
    /api/v10) get ``status`` instead of an answer (see DiscordEmulator.fail_route)."""

    def __init__(
        self, method: str, path: str, status: int, times: int, retry_after: float | None, cloudflare: bool
    ) -> None:
        self.method, self.path, self.status = method.upper(), re.compile(path), status
        self.remaining, self.retry_after, self.cloudflare = times, retry_after, cloudflare

    def response(self) -> web.Response:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = str(max(1, round(self.retry_after)))
        if self.cloudflare:
            # Cloudflare in front of Discord: an HTML page, no JSON and no Via header.
            return web.Response(status=self.status, text="error code: 1015", content_type="text/html", headers=headers)
        if self.status == 429:
            body = {"message": "You are being rate limited.", "retry_after": self.retry_after or 0.0, "global": False}
            headers.update({"Via": "1.1 google", "X-RateLimit-Scope": "user"})
            return _json_response({**body, "code": 0}, status=429, headers=headers)
        return _json_response({"message": f"{self.status}: Server Error", "code": 0}, status=self.status)


class InteractionRecord:
    """Everything the bot did in answer to one interaction the emulator dispatched.

    ``callback_type``/``callback_data`` hold the accepted initial response; ``original``
    is the message behind ``@original`` (for components answered with type 6/7, the
    clicked message); ``followups`` the followup messages; ``events`` the chronological
    log of (kind, payload-copy). Message dicts are the emulator's live objects, so later
    edits show up in them.
    """

    def __init__(self, emu: DiscordEmulator, payload: dict, message_id: int | None = None) -> None:
        self.emu = emu
        self.payload = payload
        self.id: int = int(payload["id"])
        self.token: str = payload["token"]
        self.type: int = payload["type"]
        self.user_id: int = int((payload.get("member") or payload)["user"]["id"])
        self.channel_id: int = int(payload["channel_id"])
        self.guild_id: int | None = int(payload["guild_id"]) if "guild_id" in payload else None
        self.message_id = message_id  # the message a component/modal interaction came from
        self.where: str = "guild" if "guild_id" in payload else "dm"  # see DiscordEmulator.invoke
        self.user_install: bool = False
        self.dispatched_at: float = 0.0
        self.callback_at: float | None = None
        self.callback_type: int | None = None
        self.callback_data: dict | None = None
        self.original: dict | None = None
        self.followups: list[dict] = []
        self.choices: list[dict] | None = None
        self.modal: dict | None = None
        self.final: Any = None
        self.rejected: list[tuple[str, int, int]] = []  # (what, http status, discord code)
        self.events: list[tuple[str, Any]] = []
        self._waiters: list[tuple[Callable[[], bool], asyncio.Future]] = []

    # -- results -------------------------------------------------------------------
    @property
    def initial_latency(self) -> float | None:
        """Seconds from dispatch to the accepted initial callback (None if none yet)."""
        return None if self.callback_at is None else self.callback_at - self.dispatched_at

    @property
    def deferred(self) -> bool:
        return self.callback_type in (CB_DEFERRED_MESSAGE, CB_DEFERRED_UPDATE)

    @property
    def messages(self) -> list[dict]:
        """Visible messages of this interaction: @original (if any) then followups."""
        msgs = ([self.original] if self.original is not None else []) + self.followups
        return [m for m in msgs if not self.emu.is_deleted(m)]

    @property
    def ephemeral(self) -> bool:
        return self.original is not None and bool(self.original["flags"] & FLAG_EPHEMERAL)

    def describe(self) -> str:
        kinds = ", ".join(kind for kind, _ in self.events) or "nothing"
        return (
            f"interaction {self.id} (type {self.type}): callback={self.callback_type} "
            f"rejected={self.rejected} events=[{kinds}]"
        )

    # -- waiting -------------------------------------------------------------------
    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Wait until predicate() is true: re-checked on every event of this record and
        every 20 ms (so it may also look at state outside the record)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}; {self.describe()}")
            fut = loop.create_future()
            self._waiters.append((predicate, fut))
            try:
                await asyncio.wait_for(fut, min(remaining, 0.02))
            except TimeoutError:
                self._waiters = [(p, f) for p, f in self._waiters if not f.done()]

    async def wait_callback(self, timeout: float = 5.0) -> int:
        """Wait for the initial callback (any type); returns its type."""
        await self.wait_for(lambda: self.callback_type is not None, timeout, "the initial callback")
        return self.callback_type  # type: ignore[return-value]

    async def wait_final(self, timeout: float = 5.0) -> Any:
        """Wait for a visible, non-deferred answer and return it.

        That is the message of a type 4/7 callback, or the edited @original / first
        followup after a defer. For autocomplete it returns the choices, for a modal
        the modal data.
        """
        await self.wait_for(lambda: self.final is not None, timeout, "a final (non-deferred) response")
        return self.final

    def _event(self, kind: str, payload: Any, final: Any = None) -> None:
        self.events.append((kind, copy.deepcopy(payload)))
        if final is not None and self.final is None:
            self.final = final
        for predicate, fut in self._waiters:
            if not fut.done() and predicate():
                fut.set_result(None)
        self._waiters = [(p, f) for p, f in self._waiters if not f.done()]


class _Connection:
    """One gateway websocket connection."""

    def __init__(self, ws: web.WebSocketResponse, query: dict) -> None:
        self.ws = ws
        self.query = query
        self.lock = asyncio.Lock()
        self.session: _Session | None = None

    async def send(self, frame: dict) -> None:
        async with self.lock:
            if not self.ws.closed:
                await self.ws.send_str(json.dumps(frame))


class _Session:
    """A gateway session: survives reconnects (RESUME) and buffers dispatches."""

    def __init__(self, identify: dict) -> None:
        self.id = uuid.uuid4().hex
        self.identify = identify
        self.intents: int = identify.get("intents", 0)
        self.shard: list[int] = list(identify.get("shard") or [0, 1])  # [shard_id, num_shards]
        self.seq = 0
        self.buffer: list[dict] = []
        self.conn: _Connection | None = None
        self.lock = asyncio.Lock()


class DiscordEmulator:
    """An aiohttp server that behaves like Discord's REST API and gateway, plus a test API.

    Parameters: ``ack_deadline`` (seconds an interaction may wait for its initial
    callback, Discord's is 3), ``token_ttl`` (interaction webhook lifetime),
    ``heartbeat_interval`` (seconds), ``token`` (if set, the only bot token accepted),
    ``allowed_intents`` (privileged intents enabled "in the developer portal"; asking for
    others closes the gateway with 4014 like Discord does), ``guild_id``/``channel_id``
    (to match ids a bot is configured with), ``announce_messages`` (MESSAGE_CREATE for
    messages the bot sends), ``user_install`` ("User Install" enabled for the app in the developer
    portal: commands whose ``integration_types`` include 1 can then be used in DMs, group DMs and
    servers the bot is not in, see ``invoke(where=...)``), ``upload_limit`` (bytes a file the
    bot uploads may have; Discord answers a bigger one with 413/40005).

    Files: ``emu.attachment(filename, data)`` is a file a user attached to a slash command's
    attachment option (type 11): pass it as that option's value to ``invoke``; the bot finds it in
    ``data.resolved.attachments`` with a signed URL that this emulator serves like Discord's CDN
    (``emu.expire_attachment(att)`` makes that URL answer 404, as an expired one does). Files the
    bot uploads (multipart ``payload_json`` + ``files[n]``) land in the message's ``attachments``;
    ``emu.attachment_bytes(att)`` returns the bytes of either kind, ``emu.cdn_log`` lists the
    downloads.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ack_deadline: float = 3.0,
        token_ttl: float = 15 * 60.0,
        heartbeat_interval: float = 41.25,
        token: str | None = None,
        allowed_intents: int = PRIVILEGED_INTENTS,
        bot_name: str = "AcceptanceBot",
        guild_name: str = "Acceptance Guild",
        guild_id: int | None = None,
        channel_id: int | None = None,
        announce_messages: bool = True,
        user_install: bool = False,
        upload_limit: int = UPLOAD_LIMIT,
        recommended_shards: int = 1,
        max_concurrency: int = 1,
        identify_interval: float = IDENTIFY_INTERVAL,
    ) -> None:
        self.host, self.port = host, port
        self.ack_deadline = ack_deadline
        self.token_ttl = token_ttl
        self.heartbeat_interval = heartbeat_interval
        self.token = token
        self.allowed_intents = allowed_intents
        self.announce_messages = announce_messages  # dispatch MESSAGE_CREATE for messages sent
        self.user_install = user_install  # "User Install" enabled in the developer portal
        self.upload_limit = upload_limit  # bytes per file the bot may upload (413/40005 beyond)
        self.recommended_shards = recommended_shards  # GET /gateway/bot's "shards"
        self.max_concurrency = max_concurrency  # IDENTIFYs allowed per interval, one per bucket
        self.identify_interval = identify_interval  # Discord's 5 seconds
        self.ids = _Snowflakes()
        self.session: _Session | None = None  # the current gateway session

        # The application and its bot user share one id, as for all modern Discord apps.
        self.application_id = self.ids.next()
        self.users: dict[int, dict] = {}
        self.bot_user = self._make_user(bot_name, user_id=self.application_id, bot=True)
        self.owner = self._make_user("owner", global_name="App Owner")

        # One guild with one text channel.
        self.guild_id = guild_id or self.ids.next()  # pass the bot's configured ids if it has any
        self.guild_name = guild_name
        self.channel_id = channel_id or self.ids.next()
        self.channels: dict[int, dict] = {
            self.channel_id: {
                "id": str(self.channel_id),
                "type": 0,
                "guild_id": str(self.guild_id),
                "name": "general",
                "position": 0,
                "permission_overwrites": [],
                "topic": None,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "parent_id": None,
                "last_message_id": None,
                "flags": 0,
            }
        }
        self.roles: dict[int, dict] = {}
        self.add_role("@everyone", EVERYONE_PERMISSIONS, role_id=self.guild_id)
        self.bot_role = self.add_role(
            bot_name, BOT_PERMISSIONS, managed=True, tags={"bot_id": str(self.application_id)}
        )
        self.admin_role = self.add_role("Admin", PERM_ADMINISTRATOR)
        self.members: dict[int, dict] = {}
        self._add_member_entry(self.bot_user, [self.bot_role])
        self._add_member_entry(self.owner, [self.admin_role])
        self.alice = self.add_member("alice", global_name="Alice")
        self.bob = self.add_member("bob", global_name="Bob")
        self.default_user = self.alice

        # Recorded state.
        self.global_commands: list[dict] = []
        self.guild_commands: dict[int, list[dict]] = {}
        self.messages: dict[int, dict] = {}  # every message by id (channel, DM and interaction)
        self.channel_log: dict[int, list[dict]] = {}  # non-ephemeral messages per channel
        self.deleted: set = set()
        self.files: dict[int, bytes] = {}  # attachment id -> bytes (bot uploads and user attachments)
        self.user_attachments: dict[int, dict] = {}  # attachments users gave to command options
        self.file_types: dict[int, str] = {}  # attachment id -> the content type it is served with
        self.expired_files: set = set()  # attachment ids whose CDN URL answers 404
        self.cdn_log: list[tuple[str, int, int]] = []  # (path, status, bytes sent) of every CDN download
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.dm_blocked: set = set()  # user ids whose DMs fail with 50007
        self.no_access: set = set()  # channel ids the bot user cannot reach (foreign guild, group DMs)
        self.command_overrides: dict[str, dict[int, bool]] = {}  # command name -> {user/role id: allowed}
        self.foreign_guild_id: int | None = None
        self.foreign_channel_id: int | None = None
        self.group_dms: dict[int, int] = {}  # user id -> a group DM channel id (user installs)
        self.edit_log: list[tuple[float, int]] = []  # (perf_counter, message id) of every message edit
        self.pings: list[tuple[int, int]] = []  # (message id, user id): a user notified by a mention
        self.records: list[InteractionRecord] = []
        self._records_by_id: dict[int, InteractionRecord] = {}
        self._records_by_token: dict[str, InteractionRecord] = {}
        self.requests: list[RequestLog] = []
        self.faults: list[RouteFault] = []  # see fail_route()
        self.delays: list[list[Any]] = []  # see delay_route(): [method, path pattern, seconds, times left]
        self.unhandled: list[RequestLog] = []
        self.errors: list[str] = []  # tracebacks of requests the emulator failed to handle
        self.gateway_log: list[dict] = []  # every frame the bot sent on the gateway
        self.presence: dict | None = None
        self.sessions: dict[str, _Session] = {}
        self.connections: list[_Connection] = []
        self.identify_count = 0
        # Sharding: the latest session of each shard id, every IDENTIFY accepted (time, shard id,
        # shard count) and refused for coming too soon in its bucket (time, shard id), and each
        # bucket's last IDENTIFY (bucket = shard_id % max_concurrency).
        self.shard_sessions: dict[int, _Session] = {}
        self.identify_log: list[tuple[float, int, int]] = []
        self.identify_refused: list[tuple[float, int]] = []
        self._last_identify: dict[int, float] = {}
        self.extra_guilds: dict[int, dict[str, Any]] = {}  # more servers the bot is in: id -> name, channel
        self.resume_count = 0

        self._ready = asyncio.Event()
        self._commands_synced = asyncio.Event()
        self._background: set = set()
        self._runner: web.AppRunner | None = None
        self._routes = self._build_routes()

    # ================================================================ lifecycle
    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        """What the bot sets ``discord.http.Route.BASE`` to."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    async def start(self) -> DiscordEmulator:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._get_attachment)
        app.router.add_get("/ephemeral-attachments/{channel_id}/{attachment_id}/{filename}", self._get_attachment)
        app.router.add_route("*", API_PREFIX + "/{path:.*}", self._rest)
        app.router.add_route("*", "/{path:.*}", self._rest)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        return self

    async def stop(self) -> None:
        for task in list(self._background):
            task.cancel()
        for conn in list(self.connections):
            await conn.ws.close(code=1001, message=b"emulator shutting down")
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for rec in self.records:
            for _, fut in rec._waiters:
                fut.cancel()

    async def __aenter__(self) -> DiscordEmulator:
        return await self.start()

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    def configure_discord_py(self) -> None:
        """For a bot running in this process: point discord.py's REST base and gateway here."""
        import discord.gateway
        import discord.http
        import yarl

        discord.http.Route.BASE = self.api_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)

    def env(self, token: str = "emulator-token") -> dict[str, str]:
        """Environment variables for running a bot under test as a subprocess."""
        return {"DISCORD_API_BASE": self.api_base, "DISCORD_TOKEN": token}

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Wait until a bot has identified (or resumed) and received READY + GUILD_CREATE."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            raise TimeoutError(
                f"no bot connected to {self.gateway_url} within {timeout}s (REST calls so far: {self.requests})"
            ) from None

    async def wait_commands(self, timeout: float = 10.0) -> list[dict]:
        """Wait until the bot has synced (PUT) its command tree at least once."""
        await asyncio.wait_for(self._commands_synced.wait(), timeout)
        return self.commands

    # ================================================================ fixtures: users, roles
    def _make_user(
        self, username: str, *, user_id: int | None = None, global_name: str | None = None, bot: bool = False
    ) -> dict:
        user = {
            "id": str(user_id or self.ids.next()),
            "username": username,
            "global_name": global_name,
            "discriminator": "0",
            "avatar": None,
            "public_flags": 0,
            "flags": 0,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
            "primary_guild": None,
        }
        if bot:
            user["bot"] = True
        self.users[int(str(user["id"]))] = user
        return user

    def add_role(
        self,
        name: str,
        permissions: int = 0,
        *,
        role_id: int | None = None,
        managed: bool = False,
        tags: dict | None = None,
    ) -> dict:
        role = {
            "id": str(role_id or self.ids.next()),
            "name": name,
            "permissions": str(permissions),
            "position": len(self.roles),
            "color": 0,
            "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
            "hoist": False,
            "managed": managed,
            "mentionable": False,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if tags:
            role["tags"] = tags
        self.roles[int(str(role["id"]))] = role
        if self.session is not None:  # a role made while the bot is connected: Discord announces it
            self._spawn(self._dispatch("GUILD_ROLE_CREATE", {"guild_id": str(self.guild_id), "role": role}))
        return role

    def add_user(self, username: str, *, global_name: str | None = None) -> dict:
        """A user who is not a guild member (can use the bot in DMs)."""
        return self._make_user(username, global_name=global_name)

    def add_member(
        self,
        username: str,
        *,
        global_name: str | None = None,
        roles: Iterable[Any] = (),
        admin: bool = False,
        nick: str | None = None,
    ) -> dict:
        """A guild member; returns the user object. Add members before the bot connects
        (they are part of GUILD_CREATE); later ones are announced with GUILD_MEMBER_ADD."""
        user = self._make_user(username, global_name=global_name)
        role_list = [self._role(r) for r in roles] + ([self.admin_role] if admin else [])
        member = self._add_member_entry(user, role_list, nick=nick)
        if self.session is not None:
            event = {**self._member_payload(member), "guild_id": str(self.guild_id)}
            self._spawn(self._dispatch("GUILD_MEMBER_ADD", event))
        return user

    def _add_member_entry(self, user: dict, roles: list[dict], nick: str | None = None) -> dict:
        member = {
            "user": user,
            "nick": nick,
            "avatar": None,
            "banner": None,
            "roles": [r["id"] for r in roles],
            "joined_at": _now_iso(),
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
            "unusual_dm_activity_until": None,
        }
        self.members[int(user["id"])] = member
        return member

    def _role(self, role: Any) -> dict:
        return role if isinstance(role, dict) else self.roles[int(role)]

    def permissions_of(self, user_id: int) -> int:
        member = self.members[int(user_id)]
        perms = int(self.roles[self.guild_id]["permissions"])
        for rid in member["roles"]:
            perms |= int(self.roles[int(rid)]["permissions"])
        if int(user_id) == int(self.owner["id"]) or perms & PERM_ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def _member_payload(self, member: dict, *, with_user: bool = True, permissions: bool = False) -> dict:
        out = dict(member)
        if not with_user:
            for key in ("user", "deaf", "mute"):
                out.pop(key, None)
        if permissions:
            out["permissions"] = str(self.permissions_of(int(member["user"]["id"])))
        return out

    def user(self, who: Any = None) -> dict:
        """Resolve a user: None (default user), a user dict, an id, or a username."""
        if who is None:
            return self.default_user
        if isinstance(who, dict):
            return self.users[int(who["id"])]
        if isinstance(who, int) or (isinstance(who, str) and who.isdigit()):
            return self.users[int(who)]
        for user in self.users.values():
            if user["username"] == who:
                return user
        raise LookupError(f"unknown user {who!r}")

    def block_dms(self, user: Any, blocked: bool = True) -> None:
        """Make DMs to this user fail with 403 / 50007 (user has DMs closed)."""
        uid = int(self.user(user)["id"])
        (self.dm_blocked.add if blocked else self.dm_blocked.discard)(uid)

    def allow_command(self, name: str, target: Any, allowed: bool = True) -> None:
        """A server admin's override (Server Settings > Integrations): lets (or stops) a member, a
        role (dict or id) or everyone (the guild id) use /name in the guild whatever its
        ``default_member_permissions`` say. Discord then delivers the interaction; the bot's own
        check is all that is left."""
        if isinstance(target, dict) and "permissions" in target and "username" not in target:
            key = int(target["id"])  # a role
        elif isinstance(target, int) and (target in self.roles or target == self.guild_id):
            key = target
        else:
            key = int(self.user(target)["id"])
        self.command_overrides.setdefault(name, {})[key] = allowed

    def can_use(self, name: str, user: Any = None) -> bool:
        """Whether Discord shows /name to this member in the guild: overrides for the member, then
        their roles, then everyone; else ``default_member_permissions`` against their permissions
        (administrators see everything; "0" hides it from everyone else)."""
        cmd = self.command(name)
        uid = int(self.user(user)["id"])
        overrides = self.command_overrides.get(cmd["name"], {})
        if uid in overrides:
            return overrides[uid]
        member = self.members.get(uid)
        votes = [overrides[int(r)] for r in (member or {}).get("roles", []) if int(r) in overrides]
        if votes:
            return any(votes)
        if self.guild_id in overrides:
            return overrides[self.guild_id]
        required = cmd.get("default_member_permissions")
        if required is None or member is None:
            return True
        perms = self.permissions_of(uid)
        if perms == ALL_PERMISSIONS:
            return True
        required = int(required)
        return required != 0 and perms & required == required

    def edits(self, message: Any) -> int:
        """How many times the bot edited this message (by any route) since it was sent."""
        mid = int(message["id"] if isinstance(message, dict) else message)
        return sum(1 for _, m in self.edit_log if m == mid)

    def delete_message(self, message: Any) -> None:
        """A member with Manage Messages deletes a message (the bot hears MESSAGE_DELETE)."""
        self._delete_message(self.message(message["id"] if isinstance(message, dict) else message))

    def foreign_guild_channel(self) -> int:
        """A text channel of a server the bot is not in (made on first use): only a user install
        reaches it, and the bot cannot use REST on it (403 / 50001)."""
        if self.foreign_channel_id is None:
            self.foreign_guild_id = self.ids.next()
            cid = self.foreign_channel_id = self.ids.next()
            self.channels[cid] = {
                "id": str(cid),
                "type": 0,
                "guild_id": str(self.foreign_guild_id),
                "name": "elsewhere",
                "position": 0,
                "permission_overwrites": [],
                "topic": None,
                "nsfw": False,
                "rate_limit_per_user": 0,
                "parent_id": None,
                "last_message_id": None,
                "flags": 0,
            }
            self.no_access.add(cid)
        return self.foreign_channel_id

    def group_dm_channel(self, user: Any) -> int:
        """A group DM of this user with two friends, without the bot (made on first use)."""
        u = self.user(user)
        uid = int(u["id"])
        if uid not in self.group_dms:
            friends = [self._make_user(f"{u['username']}-friend{i}") for i in (1, 2)]
            cid = self.ids.next()
            self.channels[cid] = {
                "id": str(cid),
                "type": 3,
                "name": None,
                "icon": None,
                "owner_id": u["id"],
                "last_message_id": None,
                "flags": 0,
                "recipients": [u, *friends],
            }
            self.no_access.add(cid)
            self.group_dms[uid] = cid
        return self.group_dms[uid]

    # ================================================================ inspection
    @property
    def commands(self) -> list[dict]:
        """The synced global command tree (what the bot PUT), as Discord returns it."""
        return self.global_commands

    def command(self, name: str, guild_id: int | None = None) -> dict:
        for cmd in self.guild_commands.get(guild_id or self.guild_id, []) + self.global_commands:
            if cmd["name"] == name and cmd.get("type", 1) == 1:
                return cmd
        synced = sorted(c["name"] for c in self.global_commands)
        raise LookupError(f"command /{name} is not synced (synced global commands: {synced})")

    def dm_channel_id(self, user: Any) -> int:
        """The DM channel between the bot and this user (created on first use)."""
        u = self.user(user)
        uid = int(u["id"])
        if uid not in self.dm_channels:
            cid = self.ids.next()
            self.dm_channels[uid] = cid
            self.channels[cid] = {"id": str(cid), "type": 1, "last_message_id": None, "flags": 0, "recipients": [u]}
        return self.dm_channels[uid]

    def dms(self, user: Any) -> list[dict]:
        """Messages in the bot's DM channel with this user (what the user received)."""
        return self.channel_messages(self.dm_channel_id(user))

    def channel_messages(self, channel_id: int | None = None) -> list[dict]:
        """Non-ephemeral, non-deleted messages in a channel (default: the guild text channel)."""
        cid = int(channel_id or self.channel_id)
        return [m for m in self.channel_log.get(cid, []) if not self.is_deleted(m)]

    def message(self, message_id: Any) -> dict:
        return self.messages[int(message_id)]

    def is_deleted(self, message: dict) -> bool:
        return int(message["id"]) in self.deleted

    # ================================================================ test API: files
    def attachment(
        self,
        filename: str,
        data: bytes,
        *,
        content_type: str | None = None,
        description: str | None = None,
        channel_id: int | None = None,
    ) -> dict:
        """A file a user attaches to a slash command's attachment option (type 11), as Discord
        stores it: an ephemeral attachment on its CDN, with a signed URL (``ex``/``is``/``hm``) that
        this emulator serves. Pass the returned dict (or its id) as the option's value to ``invoke``."""
        aid = self.ids.next()
        raw = bytes(data)
        self.files[aid] = raw
        if content_type is None:
            guessed = mimetypes.guess_type(filename)[0] or "application/octet-stream"
            if guessed.startswith("text/"):
                try:
                    raw.decode("utf-8")
                    guessed += "; charset=utf-8"
                except UnicodeDecodeError:
                    pass
            content_type = guessed
        now = int(time.time())
        cid = int(channel_id or self.channel_id)
        signed = f"?ex={now + 86400:x}&is={now:x}&hm={secrets.token_hex(32)}&"
        url = f"{self.base_url}/ephemeral-attachments/{cid}/{aid}/{quote(filename)}{signed}"
        self.file_types[aid] = content_type
        att = {
            "id": str(aid),
            "filename": filename,
            "size": len(raw),
            "url": url,
            "proxy_url": url,
            "content_type": content_type,
            "ephemeral": True,
        }
        if description is not None:
            att["description"] = description
        self.user_attachments[aid] = att
        return copy.deepcopy(att)

    def expire_attachment(self, attachment: dict | int | str) -> None:
        """From now on the attachment's CDN URL answers 404, as an expired or deleted one does."""
        self.expired_files.add(self._attachment_id(attachment))

    def attachment_bytes(self, attachment: dict | int | str) -> bytes:
        """The bytes of an attachment: one the bot uploaded (from a message's ``attachments``) or
        one made with ``attachment()``."""
        aid = self._attachment_id(attachment)
        if aid not in self.files:
            raise LookupError(f"no attachment {aid} was uploaded")
        return self.files[aid]

    def attachments_of(self, message: dict | int, pattern: str = "") -> list[dict]:
        """The attachments of a message as it is now whose filename matches ``pattern`` (regex)."""
        msg = self.message(message["id"] if isinstance(message, dict) else message)
        return [a for a in msg.get("attachments") or [] if re.search(pattern, a.get("filename") or "", re.I)]

    @staticmethod
    def _attachment_id(attachment: dict | int | str) -> int:
        return int(attachment["id"] if isinstance(attachment, dict) else attachment)

    # ================================================================ test API: interactions
    async def invoke(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: Any = None,
        guild: bool = True,
        subcommand: str | None = None,
        locale: str = "en-US",
        where: str | None = None,
        user_install: bool = False,
        guild_id: int | None = None,
    ) -> InteractionRecord:
        """Dispatch a slash command (INTERACTION_CREATE type 2) and return its record.

        ``options`` maps option names to values; their types come from the synced command
        (strings, ints, floats, bools, users given as dict/id/username, channels, roles).
        ``subcommand`` is 'sub' or 'group sub'. ``guild=False`` invokes it in the bot's DM.
        ``where`` ('guild', 'dm', 'private_channel', 'foreign_guild') overrides ``guild``; the last
        two, and ``user_install=True``, go through the user's own install of the app (needs
        ``emu.user_install`` and 1 in the command's ``integration_types``). Discord's rules apply:
        a command outside its ``contexts``/``integration_types`` raises ValueError, and in a guild
        one the member may not use (``default_member_permissions``, ``allow_command``) raises
        PermissionError, as Discord would not even show it.
        """
        cmd = self.command(name)
        where = where or ("guild" if guild else "dm")
        self._check_usable(cmd, user, where, user_install)
        in_guild = where in ("guild", "foreign_guild")
        opts, resolved = self._build_options(cmd, subcommand, options or {}, guild=where == "guild")
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        if cmd.get("guild_id"):
            data["guild_id"] = cmd["guild_id"]
        return await self._dispatch_interaction(
            IT_COMMAND,
            data,
            user=user,
            guild=in_guild,
            locale=locale,
            where=where,
            user_install=user_install,
            guild_id=guild_id,
        )

    def _check_usable(self, cmd: dict, user: Any, where: str, user_install: bool) -> None:
        """Discord's visibility rules for a command invoked ``where`` (see ``invoke``)."""
        if where not in CONTEXTS:
            raise ValueError(f"where={where!r}: use one of {sorted(CONTEXTS)}")
        name, contexts = cmd["name"], cmd.get("contexts")
        if where == "dm" and (cmd.get("dm_permission") is False or 1 not in (contexts or [0, 1, 2])):
            raise ValueError(f"/{name} is not available in DMs (contexts={contexts})")
        if contexts is not None and CONTEXTS[where] not in contexts:
            raise ValueError(f"/{name} is not available in context {CONTEXTS[where]} ({where}; contexts={contexts})")
        by_user = user_install or where in ("private_channel", "foreign_guild")
        kinds = cmd.get("integration_types") or [INSTALL_GUILD]
        if by_user and not self.user_install:
            raise ValueError("the app is not user-installable (DiscordEmulator(user_install=True))")
        if by_user and INSTALL_USER not in kinds:
            raise ValueError(f"/{name} is not installable to users (integration_types={kinds})")
        if not by_user and INSTALL_GUILD not in kinds:
            raise ValueError(f"/{name} is not installable to servers (integration_types={kinds})")
        if where == "guild" and not self.can_use(name, user):
            u = self.user(user)
            raise PermissionError(
                f"Discord does not show /{name} to {u['username']}: it needs permissions "
                f"{cmd.get('default_member_permissions')}, they have "
                f"{self.permissions_of(int(u['id'])) if int(u['id']) in self.members else None}"
            )

    async def autocomplete(
        self,
        name: str,
        focused_option: str,
        value: Any,
        *,
        options: dict[str, Any] | None = None,
        user: Any = None,
        guild: bool = True,
        subcommand: str | None = None,
        timeout: float = 3.0,
    ) -> list[dict]:
        """Dispatch an autocomplete interaction (type 4) and return the bot's choices."""
        cmd = self.command(name)
        self._check_usable(cmd, user, "guild" if guild else "dm", False)
        values = dict(options or {})
        values[focused_option] = value
        opts, resolved = self._build_options(cmd, subcommand, values, guild=guild, focused=focused_option)
        data: dict[str, Any] = {"id": cmd["id"], "name": cmd["name"], "type": 1, "options": opts}
        if resolved:
            data["resolved"] = resolved
        rec = await self._dispatch_interaction(IT_AUTOCOMPLETE, data, user=user, guild=guild)
        return await rec.wait_final(timeout)

    async def click(
        self, message: dict | int, custom_id: str, *, user: Any = None, values: list[Any] | None = None
    ) -> InteractionRecord:
        """Press a button (or pick ``values`` in a select menu) on a message the bot sent."""
        msg = self.message(message["id"] if isinstance(message, dict) else message)
        if self.is_deleted(msg):
            raise LookupError(f"message {msg['id']} was deleted")
        comp = next((c for c in _walk_components(msg.get("components", [])) if c.get("custom_id") == custom_id), None)
        if comp is None:
            ids = [c.get("custom_id") for c in _walk_components(msg.get("components", [])) if c.get("custom_id")]
            raise LookupError(f"no component {custom_id!r} on message {msg['id']} (has {ids})")
        if comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled; a user cannot use it")
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": comp["type"]}
        if comp["type"] in SELECT_TYPES:
            data.update(self._select_values(comp, values))
        elif values is not None:
            raise ValueError(f"{custom_id!r} is not a select menu")
        return await self._component_interaction(msg, data, user)

    def _where_of(self, msg: dict) -> tuple[str, bool]:
        """Where a message lives ('guild', 'dm', 'private_channel', 'foreign_guild') and whether the
        interaction that made it came through a user install."""
        channel = self.channels[int(msg["channel_id"])]
        owners = (msg.get("interaction_metadata") or {}).get("authorizing_integration_owners") or {}
        if channel["type"] == 3:
            return "private_channel", True
        if channel["type"] == 1:
            return "dm", str(INSTALL_USER) in owners
        if channel.get("guild_id") and int(channel["guild_id"]) not in (self.guild_id, *self.extra_guilds):
            return "foreign_guild", True
        return "guild", str(INSTALL_USER) in owners

    async def select(
        self, message: dict | int, custom_id: str, values: list[Any], *, user: Any = None
    ) -> InteractionRecord:
        """Pick options in a select menu (alias of ``click`` with values)."""
        return await self.click(message, custom_id, user=user, values=values)

    async def forge_select(
        self, message: dict | int, custom_id: str, values: list[Any], *, user: Any = None
    ) -> InteractionRecord:
        """What a modified client can send: a select interaction on a real message whose
        ``values`` are any strings, not the menu's options (Discord passes component data on
        without checking it; apps must validate it themselves)."""
        msg = self.message(message["id"] if isinstance(message, dict) else message)
        comp = next((c for c in _walk_components(msg.get("components", [])) if c.get("custom_id") == custom_id), None)
        if comp is None or comp["type"] not in SELECT_TYPES:
            raise LookupError(f"no select {custom_id!r} on message {msg['id']}")
        data = {"custom_id": custom_id, "component_type": comp["type"], "values": [str(v) for v in values]}
        return await self._component_interaction(msg, data, user)

    async def _component_interaction(self, msg: dict, data: dict, user: Any) -> InteractionRecord:
        """A button or select interaction on a message, dispatched where the message lives."""
        where, by_user = self._where_of(msg)
        return await self._dispatch_interaction(
            IT_COMPONENT,
            data,
            user=user,
            guild=where in ("guild", "foreign_guild"),
            message=msg,
            where=where,
            user_install=by_user,
        )

    async def forge_click(self, message: dict | int, custom_id: str, *, user: Any = None) -> InteractionRecord:
        """What a modified client can send: a button interaction on a real message with any
        ``custom_id`` (Discord does not check that the message has such a button)."""
        msg = self.message(message["id"] if isinstance(message, dict) else message)
        data = {"custom_id": custom_id, "component_type": 2}
        return await self._component_interaction(msg, data, user)

    async def submit_modal(
        self, record: InteractionRecord, values: dict[str, str], *, user: Any = None
    ) -> InteractionRecord:
        """Submit the modal the bot showed in ``record`` with text-input values by custom_id."""
        modal = record.modal
        if modal is None:
            raise LookupError(f"the bot did not show a modal; {record.describe()}")
        components = []
        for top in modal.get("components", []):
            if top.get("type") == 1:
                components.append({"type": 1, "components": [_submitted(c, values) for c in top.get("components", [])]})
            elif top.get("type") == 18:
                components.append({"type": 18, "id": top.get("id"), "component": _submitted(top["component"], values)})
            else:
                components.append({"type": top.get("type"), "id": top.get("id")})
        data = {"custom_id": modal["custom_id"], "components": components}
        message = self.messages.get(record.message_id) if record.message_id else None
        return await self._dispatch_interaction(
            IT_MODAL_SUBMIT,
            data,
            user=user if user is not None else record.user_id,
            guild=record.guild_id is not None,
            message=message,
            where=record.where,
            user_install=record.user_install,
        )

    async def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py closes and RESUMEs the session."""
        session = self._require_session()
        self._ready.clear()
        await session.conn.send({"op": OP_RECONNECT, "d": None, "s": None, "t": None})  # type: ignore[union-attr]

    def _session_for(self, guild_id: int | None) -> _Session:
        """The session of the shard Discord would send a server's events to (shard 0 without one)."""
        if not self.shard_sessions:
            return self._require_session()
        count = next(iter(self.shard_sessions.values())).shard[1]
        shard = shard_of(guild_id, count) if guild_id else 0
        session = self.shard_sessions.get(shard)
        if session is None:
            raise RuntimeError(f"no bot has identified as shard {shard} of {count}")
        return session

    def _require_session(self) -> _Session:
        if self.session is None or self.session.conn is None:
            raise RuntimeError("no bot is connected to the gateway (did it start? call wait_ready first)")
        return self.session

    def _build_options(
        self, cmd: dict, subcommand: str | None, values: dict[str, Any], *, guild: bool, focused: str | None = None
    ) -> tuple[list[dict], dict]:
        schema = cmd.get("options") or []
        wrappers = []
        for part in (subcommand or "").split():
            sub = next(
                (o for o in schema if o["name"] == part and o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP)), None
            )
            if sub is None:
                raise LookupError(f"/{cmd['name']} has no subcommand {part!r}")
            wrappers.append(sub)
            schema = sub.get("options") or []
        if any(o["type"] in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP) for o in schema):
            raise ValueError(f"/{cmd['name']} needs a subcommand: {[o['name'] for o in schema]}")
        resolved: dict[str, dict] = {}
        leaf = []
        for key, value in values.items():
            spec = next((o for o in schema if o["name"] == key), None)
            if spec is None:
                raise LookupError(f"/{cmd['name']} has no option {key!r} (has {[o['name'] for o in schema]})")
            leaf.append(self._option(spec, value, resolved, guild=guild, focused=key == focused))
        missing = [o["name"] for o in schema if o.get("required") and o["name"] not in values]
        if missing and focused is None:
            raise ValueError(f"/{cmd['name']} is missing required options {missing}")
        for wrapper in reversed(wrappers):
            leaf = [{"type": wrapper["type"], "name": wrapper["name"], "options": leaf}]
        return leaf, resolved

    def _option(self, spec: dict, value: Any, resolved: dict[str, dict], *, guild: bool, focused: bool) -> dict:
        kind, name = spec["type"], spec["name"]
        if focused:  # Discord sends what the user has typed so far, as a string
            return {"type": kind, "name": name, "value": str(value), "focused": True}
        if kind == OPT_STRING:
            value = str(value)
        elif kind == OPT_INTEGER:
            if isinstance(value, bool) or int(value) != value:
                raise ValueError(f"option {name!r} needs an integer, got {value!r}")
            value = int(value)
        elif kind == OPT_NUMBER:
            value = float(value)
        elif kind == OPT_BOOLEAN:
            value = bool(value)
        elif kind == OPT_USER or (kind == OPT_MENTIONABLE and not _is_role(self, value)):
            user = self.user(value)
            value = user["id"]
            resolved.setdefault("users", {})[value] = user
            if guild and int(value) in self.members:
                resolved.setdefault("members", {})[value] = self._member_payload(
                    self.members[int(value)], with_user=False, permissions=True
                )
        elif kind in (OPT_ROLE, OPT_MENTIONABLE):
            role = self._role(value)
            value = role["id"]
            resolved.setdefault("roles", {})[value] = role
        elif kind == OPT_ATTACHMENT:
            aid = self._attachment_id(value)
            if aid not in self.user_attachments:
                raise ValueError(f"option {name!r} takes an attachment made with emu.attachment(...), got {value!r}")
            value = str(aid)
            resolved.setdefault("attachments", {})[value] = copy.deepcopy(self.user_attachments[aid])
        elif kind == OPT_CHANNEL:
            channel = self.channels[int(value["id"] if isinstance(value, dict) else value)]
            value = channel["id"]
            resolved.setdefault("channels", {})[value] = {
                **{k: channel[k] for k in ("id", "type", "name", "parent_id", "flags") if k in channel},
                "permissions": str(ALL_PERMISSIONS),
            }
        else:
            raise ValueError(f"option type {kind} ({name!r}) is not supported by the emulator")
        choices = spec.get("choices")
        if choices and value not in [c["value"] for c in choices]:
            raise ValueError(f"{value!r} is not one of the choices of {name!r}: {[c['value'] for c in choices]}")
        for bound, ok in (("min_value", lambda b: value >= b), ("max_value", lambda b: value <= b)):
            if spec.get(bound) is not None and not ok(spec[bound]):
                raise ValueError(f"{value!r} violates {bound}={spec[bound]} of {name!r}")
        return {"type": kind, "name": name, "value": value}

    def _select_values(self, comp: dict, values: list[Any] | None) -> dict:
        if values is None:
            raise ValueError(f"select {comp['custom_id']!r} needs values=[...]")
        low, high = comp.get("min_values", 1), comp.get("max_values", 1)
        if not low <= len(values) <= high:
            raise ValueError(f"select {comp['custom_id']!r} takes {low}..{high} values, got {len(values)}")
        out: dict[str, Any] = {}
        if comp["type"] == 3:
            allowed = [o["value"] for o in comp.get("options", [])]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ValueError(f"{bad} are not options of {comp['custom_id']!r} ({allowed})")
            out["values"] = [str(v) for v in values]
            return out
        # user (5), role (6), mentionable (7) and channel (8) selects carry resolved data
        kind = {5: OPT_USER, 6: OPT_ROLE, 7: OPT_MENTIONABLE, 8: OPT_CHANNEL}[comp["type"]]
        resolved: dict[str, dict] = {}
        out["values"] = [
            self._option({"type": kind, "name": comp["custom_id"]}, v, resolved, guild=True, focused=False)["value"]
            for v in values
        ]
        out["resolved"] = resolved
        return out

    async def _dispatch_interaction(
        self,
        itype: int,
        data: dict,
        *,
        user: Any,
        guild: bool,
        message: dict | None = None,
        locale: str = "en-US",
        where: str | None = None,
        user_install: bool = False,
        guild_id: int | None = None,
    ) -> InteractionRecord:
        u = self.user(user)
        uid = int(u["id"])
        iid = self.ids.next()
        where = where or ("guild" if guild else "dm")
        by_user = user_install or where in ("private_channel", "foreign_guild")
        payload: dict[str, Any] = {
            "id": str(iid),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": "aW50ZXJhY3Rpb246" + secrets.token_urlsafe(48),
            "version": 1,
            "locale": locale,
            "app_permissions": str(BOT_PERMISSIONS),
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
        }
        if where == "guild":
            if uid not in self.members:
                raise LookupError(f"{u['username']} is not a member of the guild")
            if message:
                guild_id = int(self.channels[int(message["channel_id"])]["guild_id"])
            guild_id = guild_id or self.guild_id
            channel_id = int(message["channel_id"]) if message else self.guild_channel(guild_id)
            perms = str(self.permissions_of(uid))
            owners = {"0": str(guild_id), **({"1": str(uid)} if by_user else {})}
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(channel_id),
                channel={**self.channels[channel_id], "permissions": perms},
                member=self._member_payload(self.members[uid], permissions=True),
                authorizing_integration_owners=owners,
                context=0,
            )
        elif where == "foreign_guild":  # a server the bot is not in: only the user's install is there
            channel_id = int(message["channel_id"]) if message else self.foreign_guild_channel()
            guild_id = int(self.channels[channel_id]["guild_id"])
            member: dict[str, Any] = {
                "user": u,
                "nick": None,
                "avatar": None,
                "banner": None,
                "roles": [],
                "joined_at": _now_iso(),
                "premium_since": None,
                "deaf": False,
                "mute": False,
                "flags": 0,
                "pending": False,
                "communication_disabled_until": None,
                "unusual_dm_activity_until": None,
                "permissions": str(EVERYONE_PERMISSIONS),
            }
            payload.update(
                guild_id=str(guild_id),
                guild={"id": str(guild_id), "locale": "en-US", "features": []},
                guild_locale="en-US",
                channel_id=str(channel_id),
                channel={**self.channels[channel_id], "permissions": str(EVERYONE_PERMISSIONS)},
                member=member,
                authorizing_integration_owners={"1": str(uid)},
                context=0,
                app_permissions=str(EVERYONE_PERMISSIONS),
            )
        elif where == "private_channel":  # a group DM without the bot
            channel_id = int(message["channel_id"]) if message else self.group_dm_channel(u)
            payload.update(
                channel_id=str(channel_id),
                channel=copy.deepcopy(self.channels[channel_id]),
                user=u,
                authorizing_integration_owners={"1": str(uid)},
                context=2,
            )
        else:
            channel_id = self.dm_channel_id(u)
            owners = {"1": str(uid)} if by_user else {"0": "0"}
            payload.update(
                channel_id=str(channel_id),
                channel=copy.deepcopy(self.channels[channel_id]),
                user=u,
                authorizing_integration_owners=owners,
                context=1,
            )
        if message is not None:
            payload["message"] = copy.deepcopy(message)
        # Interactions reach the shard of their server ((guild_id >> 22) % shards), and shard 0
        # when there is none (DMs, group DMs).
        session = self._session_for(int(payload["guild_id"]) if payload.get("guild_id") else None)
        rec = InteractionRecord(self, payload, message_id=int(message["id"]) if message else None)
        rec.where, rec.user_install = where, user_install
        self.records.append(rec)
        self._records_by_id[rec.id] = rec
        self._records_by_token[rec.token] = rec
        rec.dispatched_at = time.perf_counter()
        await self._dispatch("INTERACTION_CREATE", payload, session)
        return rec

    # ================================================================ gateway
    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        conn = _Connection(ws, dict(request.query))
        self.connections.append(conn)
        try:
            await conn.send(
                {"op": OP_HELLO, "d": {"heartbeat_interval": int(self.heartbeat_interval * 1000)}, "s": None, "t": None}
            )
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    frame = json.loads(msg.data)
                    self.gateway_log.append(frame)
                    await self._on_gateway_frame(conn, frame)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            self.connections.remove(conn)
            if conn.session is not None and conn.session.conn is conn:
                conn.session.conn = None
                if conn.session is self.session:
                    self._ready.clear()
        return ws

    async def _on_gateway_frame(self, conn: _Connection, frame: dict) -> None:
        op, d = frame.get("op"), frame.get("d")
        if op == OP_HEARTBEAT:
            await conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            await self._identify(conn, d or {})
        elif op == OP_RESUME:
            await self._resume(conn, d or {})
        elif op == OP_PRESENCE:
            self.presence = d
        elif op == OP_REQUEST_MEMBERS and conn.session is not None:
            await self._send_member_chunk(conn.session, d or {})
        # op 4 (voice state) and anything else are just logged in gateway_log.

    async def _identify(self, conn: _Connection, d: dict) -> None:
        if self.token is not None and d.get("token") != self.token:
            await conn.ws.close(code=4004, message=b"Authentication failed.")
            return
        session = _Session(d)
        if session.intents & PRIVILEGED_INTENTS & ~self.allowed_intents:
            await conn.ws.close(code=4014, message=b"Disallowed intent(s).")
            return
        shard_id, shard_count = session.shard
        if not 0 <= shard_id < shard_count:
            await conn.ws.close(code=4010, message=b"Invalid shard.")
            return
        # Discord's session start limit: one IDENTIFY per bucket (shard_id % max_concurrency)
        # every 5 seconds; one too soon gets INVALID_SESSION (d: false) and must identify again.
        now = time.monotonic()
        bucket = shard_id % self.max_concurrency
        last = self._last_identify.get(bucket)
        if last is not None and now - last < self.identify_interval:
            self.identify_refused.append((now, shard_id))
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        self._last_identify[bucket] = now
        self.identify_log.append((now, shard_id, shard_count))
        self.identify_count += 1
        self.sessions[session.id] = session
        session.conn, conn.session = conn, session
        self.shard_sessions[shard_id] = session
        # Discord routes a guild to shard (guild_id >> 22) % num_shards; DMs go to shard 0.
        owns_guild = shard_of(self.guild_id, shard_count) == shard_id
        owned = [g for g in self.extra_guilds if shard_of(g, shard_count) == shard_id]
        listed = ([self.guild_id] if owns_guild else []) + owned
        ready = {
            "v": 10,
            "user": self._me(),
            "guilds": [{"id": str(g), "unavailable": True} for g in listed],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(self.application_id), "flags": APP_FLAGS},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": ["emulator"],
            "user_settings": {},
            "_trace": ['["discord-emulator",{}]'],
        }
        if "shard" in d:
            ready["shard"] = session.shard
        await self._dispatch("READY", ready, session)
        if session.intents & INTENT_GUILDS:
            for guild_id in owned:
                await self._dispatch("GUILD_CREATE", self._extra_guild_create(guild_id, session.intents), session)
        if owns_guild:
            if session.intents & INTENT_GUILDS:
                await self._dispatch("GUILD_CREATE", self._guild_create(session.intents), session)
            self.session = session
            self._ready.set()

    async def _resume(self, conn: _Connection, d: dict) -> None:
        session = self.sessions.get(d.get("session_id", ""))
        if session is None or (self.token is not None and d.get("token") != self.token):
            await conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.conn is not None and session.conn is not conn:
            await session.conn.ws.close(code=4000)
        self.resume_count += 1
        session.conn, conn.session = conn, session
        async with session.lock:  # replay what the client missed, then RESUMED
            for frame in session.buffer:
                if frame["s"] > (d.get("seq") or 0):
                    await conn.send(frame)
        await self._dispatch("RESUMED", {"_trace": ['["discord-emulator",{}]']}, session)
        if session is self.session:
            self._ready.set()

    async def _dispatch(self, event: str, data: dict, session: _Session | None = None) -> None:
        """Send a DISPATCH (op 0) with the session's next sequence number."""
        session = session or self._require_session()
        async with session.lock:
            session.seq += 1
            frame = {"op": OP_DISPATCH, "t": event, "s": session.seq, "d": data}
            session.buffer.append(frame)
            del session.buffer[:-1000]
            if session.conn is not None:
                await session.conn.send(frame)

    async def _send_member_chunk(self, session: _Session, d: dict) -> None:
        query, limit = (d.get("query") or "").lower(), d.get("limit") or 0
        user_ids = {int(u) for u in d.get("user_ids") or []}
        members = [
            m
            for uid, m in self.members.items()
            if (not user_ids or uid in user_ids) and m["user"]["username"].lower().startswith(query)
        ]
        if limit:
            members = members[:limit]
        chunk = {
            "guild_id": str(self.guild_id),
            "members": [self._member_payload(m) for m in members],
            "chunk_index": 0,
            "chunk_count": 1,
            "not_found": [],
        }
        if d.get("nonce"):
            chunk["nonce"] = d["nonce"]
        if d.get("presences"):
            chunk["presences"] = []
        await self._dispatch("GUILD_MEMBERS_CHUNK", chunk, session)

    def _guild(self) -> dict:
        return {
            "id": str(self.guild_id),
            "name": self.guild_name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": self.owner["id"],
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "roles": list(self.roles.values()),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": str(self.channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "max_members": 500000,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "incidents_data": None,
        }

    def add_guild(self, name: str | None = None, *, shard: tuple[int, int] | None = None) -> int:
        """Another server the bot is in (every member of the first is a member; one text channel);
        `shard` (shard id, shard count): an id Discord routes to that shard. Added while the bot
        is connected, its shard hears GUILD_CREATE (the bot joined it)."""
        ms = self.ids.next() >> 22
        if shard is not None:
            ms += (shard[0] - ms) % shard[1]
        guild_id = (ms << 22) | secrets.randbits(22)
        channel_id = self.ids.next()
        self.channels[channel_id] = {
            **self.channels[self.channel_id],
            "id": str(channel_id),
            "guild_id": str(guild_id),
            "last_message_id": None,
        }
        self.extra_guilds[guild_id] = {"name": name or f"Server {len(self.extra_guilds) + 2}", "channel_id": channel_id}
        if self.shard_sessions:
            count = next(iter(self.shard_sessions.values())).shard[1]
            session = self.shard_sessions.get(shard_of(guild_id, count))
            if session is not None and session.conn is not None:
                self._spawn(
                    self._dispatch("GUILD_CREATE", self._extra_guild_create(guild_id, session.intents), session)
                )
        return guild_id

    def guild_channel(self, guild_id: int) -> int:
        """A server's text channel (the first server's `channel_id` for it)."""
        return self.channel_id if guild_id == self.guild_id else int(self.extra_guilds[guild_id]["channel_id"])

    async def wait_shards(self, shard_ids: Iterable[int], timeout: float = 60.0) -> None:
        """Until each of these shards has a connected session (READY sent)."""
        wanted = set(shard_ids)
        deadline = time.monotonic() + timeout
        while not all(
            (s := self.shard_sessions.get(i)) is not None and s.conn is not None and s.seq > 0 for i in wanted
        ):
            if time.monotonic() > deadline:
                raise TimeoutError(f"shards {sorted(wanted)} not all connected: {sorted(self.shard_sessions)}")
            await asyncio.sleep(0.02)

    def _extra_guild(self, guild_id: int) -> dict:
        extra = self.extra_guilds[guild_id]
        return {
            **self._guild(),
            "id": str(guild_id),
            "name": extra["name"],
            "system_channel_id": str(extra["channel_id"]),
        }

    def _extra_guild_create(self, guild_id: int, intents: int) -> dict:
        created = self._guild_create(intents)
        channel = self.channels[int(self.extra_guilds[guild_id]["channel_id"])]
        roles = [{**r, "id": str(guild_id)} if int(r["id"]) == self.guild_id else r for r in created["roles"]]
        return {**created, **self._extra_guild(guild_id), "roles": roles, "channels": [channel]}

    def _guild_create(self, intents: int) -> dict:
        # Without GUILD_PRESENCES, Discord lists only the bot (and voice users) here; bots with
        # GUILD_MEMBERS then fetch the rest with op 8 REQUEST_GUILD_MEMBERS (answered below).
        members = [
            m for uid, m in self.members.items() if intents & INTENT_GUILD_PRESENCES or uid == self.application_id
        ]
        return {
            **self._guild(),
            "joined_at": self.members[self.application_id]["joined_at"],
            "large": False,
            "unavailable": False,
            "member_count": len(self.members),
            "lazy": True,
            "members": [self._member_payload(m) for m in members],
            "channels": [c for c in self.channels.values() if c["type"] != 1],
            "threads": [],
            "presences": [],
            "voice_states": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def _me(self) -> dict:
        return {
            **self.bot_user,
            "verified": True,
            "mfa_enabled": False,
            "email": None,
            "locale": "en-US",
            "premium_type": 0,
        }

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ================================================================ REST plumbing
    def _build_routes(self) -> list[tuple[str, re.Pattern[str], Callable]]:
        app, tok = r"(?P<app_id>\d+)", rf"(?P<token>{TOKEN_RE})"
        table = [
            ("GET", r"/gateway/bot", self._get_gateway_bot),
            ("GET", r"/gateway", self._get_gateway_plain),
            ("GET", r"/users/@me", lambda req, body: self._me()),
            ("GET", r"/users/@me/guilds", self._my_guilds),
            ("GET", r"/users/(?P<user_id>\d+)", self._get_user),
            ("GET", r"/(?:oauth2/)?applications/@me", lambda req, body: self._application()),
            ("PATCH", r"/applications/@me", lambda req, body: self._application()),
            ("GET", rf"/applications/{app}/commands", self._get_commands),
            ("PUT", rf"/applications/{app}/commands", self._put_commands),
            ("POST", rf"/applications/{app}/commands", self._post_command),
            ("DELETE", rf"/applications/{app}/commands/(?P<cmd_id>\d+)", self._delete_command),
            ("GET", rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands", self._get_commands),
            ("PUT", rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands", self._put_commands),
            ("POST", rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands", self._post_command),
            ("DELETE", rf"/applications/{app}/guilds/(?P<guild_id>\d+)/commands/(?P<cmd_id>\d+)", self._delete_command),
            ("POST", rf"/interactions/(?P<interaction_id>\d+)/{tok}/callback", self._callback),
            ("POST", rf"/webhooks/{app}/{tok}", self._followup),
            ("GET", rf"/webhooks/{app}/{tok}/messages/(?P<message_id>@original|\d+)", self._webhook_message),
            ("PATCH", rf"/webhooks/{app}/{tok}/messages/(?P<message_id>@original|\d+)", self._webhook_message),
            ("DELETE", rf"/webhooks/{app}/{tok}/messages/(?P<message_id>@original|\d+)", self._webhook_message),
            ("POST", r"/users/@me/channels", self._create_dm),
            ("GET", r"/channels/(?P<channel_id>\d+)", self._get_channel),
            ("POST", r"/channels/(?P<channel_id>\d+)/messages", self._create_channel_message),
            ("GET", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", self._channel_message),
            ("PATCH", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", self._channel_message),
            ("DELETE", r"/channels/(?P<channel_id>\d+)/messages/(?P<message_id>\d+)", self._channel_message),
            ("GET", r"/guilds/(?P<guild_id>\d+)", self._get_guild),
            ("GET", r"/guilds/(?P<guild_id>\d+)/channels", self._get_guild_channels),
            ("GET", r"/guilds/(?P<guild_id>\d+)/members/(?P<user_id>\d+)", self._get_member),
        ]
        return [(method, re.compile(pattern + r"/?$"), handler) for method, pattern, handler in table]

    def fail_route(
        self,
        method: str,
        path: str,
        status: int = 429,
        times: int = 1,
        *,
        retry_after: float | None = None,
        cloudflare: bool = False,
    ) -> RouteFault:
        """Make the next ``times`` matching REST requests fail. A 429 comes as Discord sends it
        (JSON with ``retry_after``, the Retry-After header when given, ``Via``), or with
        ``cloudflare`` as Cloudflare's HTML answer (discord.py does not retry that one itself)."""
        fault = RouteFault(method, path, status, times, retry_after, cloudflare)
        self.faults.append(fault)
        return fault

    def delay_route(self, method: str, path: str, seconds: float, times: int = 1) -> None:
        """The next ``times`` matching REST requests take effect at once but are answered
        ``seconds`` later (a slow network: the caller may stop before it hears the answer)."""
        self.delays.append([method.upper(), re.compile(path), seconds, times])

    def _delay_for(self, method: str, path: str) -> float | None:
        for delay in self.delays:
            if delay[3] > 0 and delay[0] == method and delay[1].fullmatch(path):
                delay[3] -= 1
                return float(delay[2])
        return None

    def _fault_for(self, method: str, path: str) -> RouteFault | None:
        for fault in self.faults:
            if fault.remaining > 0 and fault.method == method and fault.path.fullmatch(path):
                fault.remaining -= 1
                return fault
        return None

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        is_api = request.path.startswith(API_PREFIX + "/")
        path = request.path[len(API_PREFIX) :] if is_api else request.path
        handler, params = self._match(request.method, path) if is_api else (None, {})
        if is_api and (fault := self._fault_for(request.method, path)) is not None:
            self.requests.append(RequestLog(request.method, path, dict(request.query), None, [], fault.status))
            return fault.response()
        body: Any = None
        files: list[dict] = []
        try:
            body, files = await _read_body(request)
            if handler is None:
                raise ApiError(404, 0, "404: Not Found")
            if any(len(f["data"]) > self.upload_limit for f in files):
                raise ApiError(413, 40005, "Request entity too large")
            if (
                self.token is not None
                and not path.startswith(("/interactions/", "/webhooks/"))
                and request.headers.get("Authorization") != f"Bot {self.token}"
            ):
                raise ApiError(401, 0, "401: Unauthorized")
            result = handler(request, {"json": body, "files": files, **params})
            if asyncio.iscoroutine(result):
                result = await result
            response = result if isinstance(result, web.StreamResponse) else _json_response(result)
        except ApiError as exc:
            self._note_rejection(request.method, params, body, exc)
            response = _json_response(exc.body(), status=exc.status)
        except Exception as exc:  # an emulator bug or a payload it cannot digest
            # Not a 5xx: discord.py retries those with growing sleeps, hiding the failure.
            self.errors.append(f"{request.method} {path}: {traceback.format_exc()}")
            response = _json_response({"message": f"emulator error: {exc!r}", "code": 0}, status=400)
        log = RequestLog(request.method, path, dict(request.query), body, files, response.status)
        self.requests.append(log)
        if handler is None:
            self.unhandled.append(log)
        if is_api and (delay := self._delay_for(request.method, path)) is not None:
            await asyncio.sleep(delay)  # done, but the answer is slow to come back
        return response

    def _note_rejection(self, method: str, params: dict, body: Any, exc: ApiError) -> None:
        """Keep refused interaction callbacks/followups/edits on their record, for diagnostics."""
        rec = self._records_by_token.get(params.get("token", ""))
        if rec is None:
            return
        if "interaction_id" in params:
            what = "callback"
        elif "message_id" in params:
            what = {"GET": "get", "PATCH": "edit", "DELETE": "delete"}[method]
        else:
            what = "followup"
        rec.rejected.append((what, exc.status, exc.code))
        rec._event(f"rejected_{what}", {"status": exc.status, "code": exc.code, "body": body})

    def _match(self, method: str, path: str) -> tuple[Callable | None, dict]:
        for m, pattern, handler in self._routes:
            found = pattern.match(path)
            if found and m == method:
                return handler, found.groupdict()
        return None, {}

    # ================================================================ REST: app, users, commands
    def _get_gateway_bot(self, request: web.Request, body: dict) -> dict:
        return {
            "url": self.gateway_url,
            "shards": self.recommended_shards,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": self.max_concurrency,
            },
        }

    def _get_gateway_plain(self, request: web.Request, body: dict) -> dict:
        return {"url": self.gateway_url}

    def _application(self) -> dict:
        return {
            "id": str(self.application_id),
            "name": self.bot_user["username"],
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "hook": True,
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "owner": self.owner,
            "team": None,
            "flags": APP_FLAGS,
            "interactions_endpoint_url": None,
            "redirect_uris": [],
            "tags": [],
            "rpc_origins": [],
            "approximate_guild_count": 1,
            "bot": self.bot_user,
            "integration_types_config": {"0": {}, "1": {}} if self.user_install else {"0": {}},
        }

    def _get_user(self, request: web.Request, body: dict) -> dict:
        user = self.users.get(int(body["user_id"]))
        if user is None:
            raise ApiError(404, 10013, "Unknown User")
        return user

    def _my_guilds(self, request: web.Request, body: dict) -> list[dict]:
        if int(request.query.get("after", 0)) >= self.guild_id:  # discord.py pages with ?after=
            return []
        return [
            {
                "id": str(self.guild_id),
                "name": self.guild_name,
                "icon": None,
                "banner": None,
                "owner": False,
                "permissions": str(BOT_PERMISSIONS),
                "features": [],
            }
        ]

    def _check_app(self, body: dict) -> None:
        if int(body["app_id"]) != self.application_id:
            raise ApiError(403, 50001, "Missing Access")

    def _command_list(self, body: dict) -> list[dict]:
        if body.get("guild_id"):
            if int(body["guild_id"]) != self.guild_id:
                raise ApiError(403, 50001, "Missing Access")
            return self.guild_commands.setdefault(self.guild_id, [])
        return self.global_commands

    def _get_commands(self, request: web.Request, body: dict) -> list[dict]:
        self._check_app(body)
        return self._command_list(body)

    def _put_commands(self, request: web.Request, body: dict) -> list[dict]:
        """Bulk overwrite: keeps ids of commands whose (name, type) survive, like Discord."""
        self._check_app(body)
        existing = {(c["name"], c.get("type", 1)): c for c in self._command_list(body)}
        new = []
        for index, raw in enumerate(body["json"] or []):
            _validate_command(raw, str(index))
            old = existing.get((raw["name"], raw.get("type", 1)))
            new.append(self._command_object(raw, body.get("guild_id"), old["id"] if old else None))
        self._command_list(body)[:] = new
        self._commands_synced.set()
        return new

    def _post_command(self, request: web.Request, body: dict) -> dict:
        self._check_app(body)
        raw = body["json"] or {}
        _validate_command(raw, "")
        commands = self._command_list(body)
        old = next((c for c in commands if c["name"] == raw["name"] and c.get("type", 1) == raw.get("type", 1)), None)
        cmd = self._command_object(raw, body.get("guild_id"), old["id"] if old else None)
        commands[:] = [c for c in commands if c is not old] + [cmd]
        return cmd

    def _delete_command(self, request: web.Request, body: dict) -> web.Response:
        self._check_app(body)
        commands = self._command_list(body)
        if not any(c["id"] == body["cmd_id"] for c in commands):
            raise ApiError(404, 10063, "Unknown application command")
        commands[:] = [c for c in commands if c["id"] != body["cmd_id"]]
        return web.Response(status=204)

    def _command_object(self, raw: dict, guild_id: str | None, command_id: str | None) -> dict:
        cmd = copy.deepcopy(raw)
        cmd.setdefault("type", 1)
        cmd.setdefault("description", "")
        cmd.setdefault("options", [])
        cmd.setdefault("default_member_permissions", None)
        if cmd["default_member_permissions"] is not None:  # Discord answers it as a string of the bits
            cmd["default_member_permissions"] = str(int(cmd["default_member_permissions"]))
        cmd.setdefault("nsfw", False)
        cmd.setdefault("name_localizations", None)
        cmd.setdefault("description_localizations", None)
        cmd.update(
            id=command_id or str(self.ids.next()), application_id=str(self.application_id), version=str(self.ids.next())
        )
        if guild_id:
            cmd["guild_id"] = str(guild_id)
        else:
            cmd.setdefault("contexts", None)
            cmd.setdefault("integration_types", [0])
        return cmd

    # ================================================================ REST: interactions
    def _record_for_token(self, body: dict) -> InteractionRecord:
        rec = self._records_by_token.get(body["token"])
        if rec is None or int(body["app_id"]) != self.application_id:
            raise ApiError(404, 10015, "Unknown Webhook")
        if time.perf_counter() - rec.dispatched_at > self.token_ttl:
            raise ApiError(401, 50027, "Invalid Webhook Token")
        return rec

    def _callback(self, request: web.Request, body: dict) -> Any:
        rec = self._records_by_id.get(int(body["interaction_id"]))
        if rec is None or rec.token != body["token"]:
            raise ApiError(404, 10062, "Unknown interaction")
        payload = body["json"] or {}
        ctype, data = payload.get("type"), payload.get("data") or {}
        if rec.callback_type is not None:
            raise ApiError(400, 40060, "Interaction has already been acknowledged.")
        if time.perf_counter() - rec.dispatched_at > self.ack_deadline:
            raise ApiError(404, 10062, "Unknown interaction")
        if ctype not in ALLOWED_CALLBACKS[rec.type]:
            raise _form_error(
                "type",
                "INTERACTION_RESPONSE_TYPE_INVALID",
                f"Callback type {ctype} is not valid for interaction type {rec.type}.",
            )
        if ctype in (CB_DEFERRED_UPDATE, CB_UPDATE_MESSAGE) and rec.message_id is None:
            raise _form_error("type", "INTERACTION_RESPONSE_TYPE_INVALID", "This interaction has no message.")

        final: Any = None
        if ctype == CB_MESSAGE:
            _validate_message(data, "data", require_content=not body["files"])
            mtype = 20 if rec.type == IT_COMMAND else 0
            rec.original = self._new_message(
                rec.channel_id,
                data,
                body["files"],
                rec=rec,
                mtype=mtype,
                flags=int(data.get("flags") or 0) & SETTABLE_FLAGS,
            )
            final = rec.original
        elif ctype == CB_DEFERRED_MESSAGE:
            mtype = 20 if rec.type == IT_COMMAND else 0
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            rec.original = self._new_message(rec.channel_id, {}, [], rec=rec, mtype=mtype, flags=flags)
        elif ctype == CB_DEFERRED_UPDATE:
            rec.original = self.messages[rec.message_id]  # type: ignore[index]
        elif ctype == CB_UPDATE_MESSAGE:
            _validate_message(data, "data", require_content=False)
            rec.original = self.messages[rec.message_id]  # type: ignore[index]
            self._edit_message(rec.original, data, body["files"])
            final = rec.original
        elif ctype == CB_AUTOCOMPLETE:
            _validate_choices(data.get("choices"))
            rec.choices = data.get("choices") or []
            final = rec.choices
        elif ctype == CB_MODAL:
            _validate_modal(data)
            rec.modal = data
            final = rec.modal
        rec.callback_type, rec.callback_data, rec.callback_at = ctype, data, time.perf_counter()
        rec._event(f"callback_{ctype}", payload, final)

        if request.query.get("with_response", "").lower() not in ("1", "true"):
            return web.Response(status=204)
        interaction = {"id": str(rec.id), "type": rec.type}
        response: dict[str, Any] = {"interaction": interaction}
        if ctype in (CB_MESSAGE, CB_DEFERRED_MESSAGE, CB_UPDATE_MESSAGE) and rec.original is not None:
            interaction.update(
                response_message_id=rec.original["id"],
                response_message_loading=ctype == CB_DEFERRED_MESSAGE,
                response_message_ephemeral=bool(rec.original["flags"] & FLAG_EPHEMERAL),
            )
            response["resource"] = {"type": ctype, "message": rec.original}
        elif ctype == CB_MODAL:
            response["resource"] = {"type": ctype}
        return response

    def _followup(self, request: web.Request, body: dict) -> Any:
        rec = self._record_for_token(body)
        if rec.callback_type is None:  # the webhook only exists once the interaction is acknowledged
            raise ApiError(404, 10015, "Unknown Webhook")
        data = body["json"] or {}
        _validate_message(data, "", require_content=not body["files"])
        original = rec.original
        if (
            rec.callback_type == CB_DEFERRED_MESSAGE
            and original is not None
            and original["flags"] & FLAG_LOADING
            and not self.is_deleted(original)
        ):
            # Like Discord, the first followup after a "thinking" defer becomes that message;
            # its ephemerality is the one chosen when deferring.
            self._edit_message(original, data, body["files"], mark_edited=False)
            extra = int(data.get("flags") or 0) & SETTABLE_FLAGS & ~FLAG_EPHEMERAL
            original["flags"] = (original["flags"] & FLAG_EPHEMERAL) | extra
            self._ping(original, data)
            msg = original
        else:
            msg = self._new_message(
                rec.channel_id,
                data,
                body["files"],
                rec=rec,
                mtype=20 if rec.type == IT_COMMAND else 0,
                flags=int(data.get("flags") or 0) & SETTABLE_FLAGS,
            )
            rec.followups.append(msg)
        rec._event("followup", msg, msg)
        if request.query.get("wait", "").lower() in ("1", "true"):
            return msg
        return web.Response(status=204)

    def _webhook_message(self, request: web.Request, body: dict) -> Any:
        rec = self._record_for_token(body)
        if body["message_id"] == "@original":
            msg = rec.original
        else:
            msg = next((m for m in ([rec.original, *rec.followups]) if m and m["id"] == body["message_id"]), None)
        if msg is None or self.is_deleted(msg):
            raise ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return msg
        if request.method == "DELETE":
            self._delete_message(msg)
            rec._event("delete", msg)
            return web.Response(status=204)
        data = body["json"] or {}
        _validate_message(data, "", require_content=False)
        was_loading = bool(msg["flags"] & FLAG_LOADING)
        self._edit_message(msg, data, body["files"], mark_edited=not was_loading)
        msg["flags"] &= ~FLAG_LOADING
        if was_loading:
            self._ping(msg, data)
        rec._event("edit_original" if msg is rec.original else "edit_followup", msg, msg)
        return msg

    # ================================================================ REST: channels, DMs, guild
    def _create_dm(self, request: web.Request, body: dict) -> dict:
        recipient = (body["json"] or {}).get("recipient_id")
        if recipient is None or int(recipient) not in self.users:
            raise _form_error("recipient_id", "BASE_TYPE_REQUIRED", "Unknown recipient.")
        return self.channels[self.dm_channel_id(int(recipient))]

    def _channel(self, channel_id: Any) -> dict:
        channel = self.channels.get(int(channel_id))
        if channel is None:
            raise ApiError(404, 10003, "Unknown Channel")
        if int(channel_id) in self.no_access:
            raise ApiError(403, 50001, "Missing Access")
        return channel

    def _get_channel(self, request: web.Request, body: dict) -> dict:
        return self._channel(body["channel_id"])

    def _create_channel_message(self, request: web.Request, body: dict) -> dict:
        channel = self._channel(body["channel_id"])
        if channel["type"] == 1 and int(channel["recipients"][0]["id"]) in self.dm_blocked:
            raise ApiError(403, 50007, "Cannot send messages to this user")
        data = body["json"] or {}
        _validate_message(data, "", require_content=not body["files"])
        if data.get("enforce_nonce") and data.get("nonce") is not None:
            # Discord: the same nonce again from the same author within a few minutes returns the
            # message made the first time, and makes none.
            for earlier in reversed(self.channel_log.get(int(channel["id"]), [])):
                if earlier.get("nonce") == data["nonce"] and earlier["author"]["id"] == self.bot_user["id"]:
                    return earlier
        msg = self._new_message(
            int(channel["id"]),
            data,
            body["files"],
            flags=int(data.get("flags") or 0) & (SETTABLE_FLAGS & ~FLAG_EPHEMERAL),
        )
        if data.get("message_reference"):
            msg["type"] = 19
            msg["message_reference"] = {**data["message_reference"], "channel_id": channel["id"]}
        if data.get("nonce") is not None:
            msg["nonce"] = data["nonce"]
        return msg

    def _channel_message(self, request: web.Request, body: dict) -> Any:
        if int(body["channel_id"]) in self.no_access:
            raise ApiError(403, 50001, "Missing Access")
        msg = self.messages.get(int(body["message_id"]))
        if (
            msg is None
            or msg["channel_id"] != body["channel_id"]
            or self.is_deleted(msg)
            or msg["flags"] & FLAG_EPHEMERAL
        ):
            raise ApiError(404, 10008, "Unknown Message")
        if request.method == "GET":
            return msg
        if request.method == "DELETE":
            self._delete_message(msg)
            return web.Response(status=204)
        if msg["author"]["id"] != self.bot_user["id"]:
            raise ApiError(403, 50005, "Cannot edit a message authored by another user")
        data = body["json"] or {}
        _validate_message(data, "", require_content=False)
        return self._edit_message(msg, data, body["files"])

    def _get_guild(self, request: web.Request, body: dict) -> dict:
        if self.foreign_guild_id is not None and int(body["guild_id"]) == self.foreign_guild_id:
            raise ApiError(403, 50001, "Missing Access")
        if int(body["guild_id"]) in self.extra_guilds:
            return self._extra_guild(int(body["guild_id"]))
        if int(body["guild_id"]) != self.guild_id:
            raise ApiError(404, 10004, "Unknown Guild")
        return self._guild()

    def _get_guild_channels(self, request: web.Request, body: dict) -> list[dict]:
        self._get_guild(request, body)
        return [c for c in self.channels.values() if c["type"] != 1]

    def _get_member(self, request: web.Request, body: dict) -> dict:
        self._get_guild(request, body)
        member = self.members.get(int(body["user_id"]))
        if member is None:
            raise ApiError(404, 10007, "Unknown Member")
        return self._member_payload(member)

    async def _get_attachment(self, request: web.Request) -> web.Response:
        """The CDN: bot uploads under /attachments/, users' command attachments under
        /ephemeral-attachments/; an expired or unknown one answers 404 as Discord's CDN does."""
        try:
            aid = int(request.match_info["attachment_id"])
        except ValueError:
            aid = -1
        data = self.files.get(aid)
        if data is None or aid in self.expired_files:
            self.cdn_log.append((request.path, 404, 0))
            return web.Response(status=404, text=CDN_GONE)
        ctype = self.file_types.get(aid) or "application/octet-stream"
        self.cdn_log.append((request.path, 200, len(data)))
        return web.Response(body=data, headers={"Content-Type": ctype})

    # ================================================================ messages
    def _new_message(
        self,
        channel_id: int,
        data: dict,
        files: list[dict],
        *,
        rec: InteractionRecord | None = None,
        mtype: int = 0,
        flags: int = 0,
    ) -> dict:
        mid = self.ids.next()
        msg: dict[str, Any] = {
            "id": str(mid),
            "type": mtype,
            "channel_id": str(channel_id),
            "author": dict(self.bot_user),
            "content": "",
            "timestamp": _now_iso(),
            "edited_timestamp": None,
            "tts": bool(data.get("tts")),
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": [],
            "components": [],
            "pinned": False,
            "flags": flags,
        }
        if rec is not None:
            msg["webhook_id"] = str(self.application_id)
            msg["application_id"] = str(self.application_id)
            meta = {
                "id": str(rec.id),
                "type": rec.type,
                "user": self.users[rec.user_id],
                "authorizing_integration_owners": rec.payload["authorizing_integration_owners"],
            }
            if rec.type in (IT_COMMAND, IT_AUTOCOMPLETE):
                meta["name"] = rec.payload["data"]["name"]
                meta["command_type"] = 1
            if rec.message_id is not None:
                meta["interacted_message_id"] = str(rec.message_id)
            if rec.original is not None and rec.original["id"] != msg["id"]:
                meta["original_response_message_id"] = rec.original["id"]
            msg["interaction_metadata"] = meta
        self._edit_message(msg, data, files, mark_edited=False)
        self.messages[mid] = msg
        self._ping(msg, data)
        channel = self.channels.get(channel_id)
        if not flags & FLAG_EPHEMERAL:
            self.channel_log.setdefault(channel_id, []).append(msg)
            if channel is not None:
                channel["last_message_id"] = msg["id"]
            self._announce(msg)
        return msg

    def _edit_message(self, msg: dict, data: dict, files: list[dict], *, mark_edited: bool = True) -> dict:
        if "content" in data:
            msg["content"] = data["content"] or ""
            msg["mentions"] = [
                self.users[int(uid)] for uid in re.findall(r"<@!?(\d+)>", msg["content"]) if int(uid) in self.users
            ]
            allowed = data.get("allowed_mentions")
            msg["mention_everyone"] = "@everyone" in msg["content"] and (
                allowed is None or "everyone" in (allowed.get("parse") or [])
            )
        if "embeds" in data:
            msg["embeds"] = [{"type": "rich", **e} for e in (data["embeds"] or [])]
        if "components" in data:
            msg["components"] = _number_components(copy.deepcopy(data["components"] or []))
        if "flags" in data and data["flags"] is not None:  # only these flags can change on edit
            mutable = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2
            msg["flags"] = (msg["flags"] & ~mutable) | (int(data["flags"]) & mutable)
        if "attachments" in data or files:
            msg["attachments"] = self._attachments(msg, data.get("attachments"), files)
        if data.get("poll"):
            msg["poll"] = data["poll"]
        if mark_edited:
            msg["edited_timestamp"] = _now_iso()
            self.edit_log.append((time.perf_counter(), int(msg["id"])))
        return msg

    def _ping(self, msg: dict, data: dict) -> None:
        """Notify the users a message mentions as it appears (an edit notifies no one), as its
        `allowed_mentions` permits: absent, every mention pings; else only `parse: ["users"]` or
        the ids in `users`. Ephemeral messages notify no one."""
        if msg["flags"] & FLAG_EPHEMERAL:
            return
        mentioned = [int(u["id"]) for u in msg["mentions"]]
        allowed = data.get("allowed_mentions")
        if allowed is not None and "users" not in (allowed.get("parse") or []):
            listed = {int(u) for u in allowed.get("users") or []}
            mentioned = [u for u in mentioned if u in listed]
        self.pings += [(int(msg["id"]), user) for user in dict.fromkeys(mentioned)]

    def _attachments(self, msg: dict, listed: list[dict] | None, files: list[dict]) -> list[dict]:
        """Keep listed existing attachments (by id) and add uploaded files[n]."""
        by_index = {f["index"]: f for f in files}
        existing = {a["id"]: a for a in msg.get("attachments", [])}
        out = []
        entries = listed if listed is not None else [{"id": f["index"]} for f in files]
        for entry in entries:
            key = str(entry.get("id"))
            if key in existing:
                out.append(existing[key])
            elif entry.get("id") is not None and int(entry["id"]) in by_index:
                upload = by_index.pop(int(entry["id"]))
                aid = self.ids.next()
                self.files[aid] = upload["data"]
                self.file_types[aid] = upload["content_type"]
                filename = entry.get("filename") or upload["filename"]
                url = f"{self.base_url}/attachments/{msg['channel_id']}/{aid}/{filename}"
                out.append(
                    {
                        "id": str(aid),
                        "filename": filename,
                        "size": len(upload["data"]),
                        "url": url,
                        "proxy_url": url,
                        "content_type": upload["content_type"],
                        "description": entry.get("description"),
                        "ephemeral": bool(msg["flags"] & FLAG_EPHEMERAL),
                    }
                )
        return out

    def _delete_message(self, msg: dict) -> None:
        self.deleted.add(int(msg["id"]))
        if (
            self.session is not None
            and not msg["flags"] & FLAG_EPHEMERAL
            and int(msg["channel_id"]) not in self.no_access
        ):
            self._spawn(
                self._dispatch(
                    "MESSAGE_DELETE",
                    {"id": msg["id"], "channel_id": msg["channel_id"], **self._guild_ref(int(msg["channel_id"]))},
                )
            )

    def _guild_ref(self, channel_id: int) -> dict:
        channel = self.channels.get(channel_id) or {}
        return {"guild_id": channel["guild_id"]} if channel.get("guild_id") else {}

    def _announce(self, msg: dict) -> None:
        """Dispatch MESSAGE_CREATE for a message the bot sent, as Discord does (intents permitting)."""
        ref = self._guild_ref(int(msg["channel_id"]))
        try:
            session: _Session | None = self._session_for(int(ref["guild_id"]) if ref else None)
        except RuntimeError:
            session = None
        if not self.announce_messages or session is None or int(msg["channel_id"]) in self.no_access:
            return
        in_guild = bool(ref)
        if not session.intents & (INTENT_GUILD_MESSAGES if in_guild else INTENT_DIRECT_MESSAGES):
            return
        event = {**msg, **self._guild_ref(int(msg["channel_id"]))}
        if in_guild:
            event["member"] = self._member_payload(self.members[self.application_id], with_user=False)
        self._spawn(self._dispatch("MESSAGE_CREATE", event, session))


# ==================================================================== helpers
def _json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    # discord.py only parses bodies whose Content-Type is exactly 'application/json'.
    headers = {"Content-Type": "application/json", **(headers or {})}
    return web.Response(status=status, body=json.dumps(data).encode(), headers=headers)


async def _read_body(request: web.Request) -> tuple[Any, list[dict]]:
    """JSON body, or multipart/form-data with payload_json + files[n] (as discord.py sends uploads)."""
    if request.content_type.startswith("multipart/"):
        body, files = None, []
        reader = await request.multipart()
        async for part in reader:
            if not isinstance(part, BodyPartReader):
                continue
            if part.name == "payload_json":
                body = json.loads(await part.text())
            elif part.name and part.name.startswith("files["):
                files.append(
                    {
                        "index": int(part.name[6:-1]),
                        "filename": part.filename or "file",
                        "content_type": part.headers.get("Content-Type", "application/octet-stream"),
                        "data": bytes(await part.read()),
                    }
                )
        return body, files
    raw = await request.read()
    if not raw:
        return None, []
    try:
        return json.loads(raw), []
    except ValueError:
        raise ApiError(400, 50109, "The request body contains invalid JSON.") from None


def _walk_components(components: list[dict]) -> Iterator[dict]:
    for comp in components or []:
        yield comp
        yield from _walk_components(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from _walk_components([comp[key]])


def _number_components(components: list[dict]) -> list[dict]:
    """Discord gives every component a numeric id unique within the message."""
    taken = {c["id"] for c in _walk_components(components) if c.get("id") is not None}
    counter = 0
    for comp in _walk_components(components):
        if comp.get("id") is None:
            counter += 1
            while counter in taken:
                counter += 1
            comp["id"] = counter
    return components


def _submitted(component: dict, values: dict[str, str]) -> dict:
    out = {"type": component["type"], "custom_id": component.get("custom_id"), "id": component.get("id")}
    if component["type"] == 4:
        out["value"] = values.get(str(component.get("custom_id")), component.get("value") or "")
    elif component["type"] in SELECT_TYPES:
        out["values"] = values.get(str(component.get("custom_id")), [])
    return out


def _is_role(emu: DiscordEmulator, value: Any) -> bool:
    key = str(value.get("id") if isinstance(value, dict) else value)
    return key.isdigit() and int(key) in emu.roles


def _too_long(value: str | None, limit: int) -> bool:
    return value is not None and len(value) > limit


def _validate_message(data: dict, prefix: str, *, require_content: bool) -> None:
    """Discord's message limits; violations raise 400 50035 (or 50006 for empty messages)."""
    p = (prefix + ".") if prefix else ""
    if _too_long(data.get("content"), 2000):
        raise _form_error(p + "content", "BASE_TYPE_MAX_LENGTH", "Must be 2000 or fewer in length.")
    embeds = data.get("embeds") or []
    if len(embeds) > 10:
        raise _form_error(p + "embeds", "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    limits = (("title", 256), ("description", 4096))
    for i, embed in enumerate(embeds):
        for key, limit in limits:
            if _too_long(embed.get(key), limit):
                raise _form_error(
                    f"{p}embeds.{i}.{key}", "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length."
                )
        fields = embed.get("fields") or []
        if len(fields) > 25:
            raise _form_error(f"{p}embeds.{i}.fields", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, field in enumerate(fields):
            for key, limit in (("name", 256), ("value", 1024)):
                if not field.get(key):
                    raise _form_error(f"{p}embeds.{i}.fields.{j}.{key}", "BASE_TYPE_REQUIRED", "This field is required")
                if _too_long(field.get(key), limit):
                    raise _form_error(
                        f"{p}embeds.{i}.fields.{j}.{key}",
                        "BASE_TYPE_MAX_LENGTH",
                        f"Must be {limit} or fewer in length.",
                    )
            total += len(field["name"]) + len(field["value"])
        footer, author = embed.get("footer") or {}, embed.get("author") or {}
        texts = (embed.get("title"), embed.get("description"), footer.get("text"), author.get("name"))
        total += sum(len(x or "") for x in texts)
    if total > 6000:
        raise _form_error(p + "embeds", "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    components = data.get("components") or []
    v2 = int(data.get("flags") or 0) & FLAG_COMPONENTS_V2
    if not v2 and len(components) > 5:
        raise _form_error(p + "components", "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set = set()
    for comp in _walk_components(components):
        cid = comp.get("custom_id")
        if cid is not None:
            if len(cid) > 100:
                raise _form_error(p + "components", "BASE_TYPE_MAX_LENGTH", "custom_id must be 100 or fewer in length.")
            if cid in seen:
                raise _form_error(
                    p + "components", "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
                )
            seen.add(cid)
        if _too_long(comp.get("label"), 80):
            raise _form_error(p + "components", "BASE_TYPE_MAX_LENGTH", "label must be 80 or fewer in length.")
        if comp.get("type") == 1 and len(comp.get("components") or []) > 5:
            raise _form_error(p + "components", "BASE_TYPE_MAX_LENGTH", "An action row holds at most 5 components.")
        if comp.get("type") == 3 and len(comp.get("options") or []) > 25:
            raise _form_error(p + "components", "BASE_TYPE_MAX_LENGTH", "A select holds at most 25 options.")
    has_body = data.get("content") or embeds or components or data.get("sticker_ids") or data.get("poll")
    if require_content and not has_body:
        raise ApiError(400, 50006, "Cannot send an empty message")


def _validate_choices(choices: Any) -> None:
    if choices is None:
        return
    if len(choices) > 25:
        raise _form_error("data.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    for i, choice in enumerate(choices):
        if not 1 <= len(str(choice.get("name", ""))) <= 100:
            raise _form_error(f"data.choices.{i}.name", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if isinstance(choice.get("value"), str) and len(choice["value"]) > 100:
            raise _form_error(f"data.choices.{i}.value", "BASE_TYPE_MAX_LENGTH", "Must be 100 or fewer in length.")


def _validate_modal(data: dict) -> None:
    if not data.get("custom_id") or not data.get("title") or not data.get("components"):
        raise _form_error("data", "BASE_TYPE_REQUIRED", "A modal needs custom_id, title and components.")
    if len(data["title"]) > 45:
        raise _form_error("data.title", "BASE_TYPE_MAX_LENGTH", "Must be 45 or fewer in length.")


_NAME_RE = re.compile(r"^[-_\w]{1,32}$")


def _validate_command(raw: dict, prefix: str) -> None:
    """Discord's application-command rules that commonly bite: names, lengths, option order."""
    p = (prefix + ".") if prefix else ""
    name, kind = raw.get("name", ""), raw.get("type", 1)
    if kind == 1 and (not _NAME_RE.match(name) or name != name.lower()):
        raise _form_error(p + "name", "APPLICATION_COMMAND_INVALID_NAME", f"Command name {name!r} is invalid.")
    if kind == 1 and not 1 <= len(raw.get("description") or "") <= 100:
        raise _form_error(p + "description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    _validate_options(raw.get("options") or [], p + "options")


def _validate_options(options: list[dict], path: str) -> None:
    if len(options) > 25:
        raise _form_error(path, "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    names, optional_seen = set(), False
    for i, opt in enumerate(options):
        name = opt.get("name", "")
        if not _NAME_RE.match(name) or name != name.lower():
            raise _form_error(
                f"{path}.{i}.name", "APPLICATION_COMMAND_INVALID_NAME", f"Option name {name!r} is invalid."
            )
        if name in names:
            raise _form_error(
                f"{path}.{i}.name", "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS", "Duplicate option name."
            )
        names.add(name)
        if not 1 <= len(opt.get("description") or "") <= 100:
            raise _form_error(f"{path}.{i}.description", "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
        if opt.get("type") in (OPT_SUB_COMMAND, OPT_SUB_COMMAND_GROUP):
            _validate_options(opt.get("options") or [], f"{path}.{i}.options")
            continue
        if opt.get("required"):
            if optional_seen:
                raise _form_error(
                    path,
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options",
                )
        else:
            optional_seen = True
        if len(opt.get("choices") or []) > 25:
            raise _form_error(f"{path}.{i}.choices", "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        if opt.get("choices") and opt.get("autocomplete"):
            raise _form_error(
                f"{path}.{i}.autocomplete",
                "APPLICATION_COMMAND_OPTION_CHOICES_AUTOCOMPLETE",
                "Autocomplete cannot be used with choices.",
            )


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a server's events and interactions to."""
    return (guild_id >> 22) % shard_count
