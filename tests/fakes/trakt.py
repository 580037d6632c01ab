"""A fake of Trakt's API v2 on 127.0.0.1: the OAuth device flow (pending, slow_down, approval,
denial, expiry, as Trakt answers them: 400, 429, 200, 418, 410), single-use refresh tokens,
revocation, last_activities, and the user's history, ratings and watchlist paged with
`X-Pagination-*` headers. Calls without the app's `trakt-api-key` get 403, a bad token 401."""

from __future__ import annotations

import math
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.server import LoopbackServer


@dataclass
class TraktUser:
    """One Trakt account: its films (TMDB id None: an item Trakt has no TMDB id for)."""

    name: str
    history: list[dict[str, Any]] = field(default_factory=list)
    ratings: list[dict[str, Any]] = field(default_factory=list)
    watchlist: list[dict[str, Any]] = field(default_factory=list)
    revoked: bool = False  # the user revoked the app at trakt.tv

    def watch(self, tmdb_id: int | None, title: str, year: int, at: str) -> None:
        self.history.append({"id": len(self.history) + 1, "watched_at": at, "action": "watch", "type": "movie",
                             "movie": movie(tmdb_id, title, year)})  # fmt: skip

    def rate(self, tmdb_id: int | None, title: str, year: int, rating: int, at: str) -> None:
        self.ratings.append({"rated_at": at, "rating": rating, "type": "movie", "movie": movie(tmdb_id, title, year)})

    def list(self, tmdb_id: int | None, title: str, year: int, at: str) -> None:
        self.watchlist.append(
            {"rank": len(self.watchlist) + 1, "listed_at": at, "type": "movie", "movie": movie(tmdb_id, title, year)}
        )

    def activities(self) -> dict[str, Any]:
        def latest(items: list[dict[str, Any]], key: str) -> str:
            return max((i[key] for i in items), default="1970-01-01T00:00:00.000Z")

        movies = {
            "watched_at": latest(self.history, "watched_at"),
            "rated_at": latest(self.ratings, "rated_at"),
            "watchlisted_at": latest(self.watchlist, "listed_at"),
            "collected_at": "1970-01-01T00:00:00.000Z",
        }
        return {"all": max(movies.values()), "movies": movies, "episodes": {}, "shows": {}}


def movie(tmdb_id: int | None, title: str, year: int) -> dict[str, Any]:
    ids: dict[str, Any] = {"trakt": 10_000 + (tmdb_id or 0), "slug": title.lower().replace(" ", "-")}
    if tmdb_id is not None:
        ids["tmdb"] = tmdb_id
    return {"title": title, "year": year, "ids": ids}


@dataclass
class DeviceCode:
    user: TraktUser
    code: str
    user_code: str
    expires_at: float
    # What each poll gets until `outcome`: 400 pending, 429 slow down.
    before: list[int] = field(default_factory=list)
    outcome: str = "approve"  # approve, deny, expire
    used: bool = False


@dataclass
class FakeTrakt(LoopbackServer):
    client_id: str = "trakt-client-id"
    client_secret: str = "trakt-client-secret"
    interval: int = 5
    expires_in: int = 600
    token_lifetime: int = 24 * 3600  # seconds an access token lives
    page_size: int = 1000  # items a page holds at most, whatever `limit` asks
    calls: list[tuple[str, str, str | None]] = field(default_factory=list)  # (method, path, bearer token)
    users: list[TraktUser] = field(default_factory=list)
    codes: dict[str, DeviceCode] = field(default_factory=dict)
    access: dict[str, tuple[TraktUser, float]] = field(default_factory=dict)  # token -> (user, expires at)
    refresh: dict[str, TraktUser] = field(default_factory=dict)  # refresh tokens not used yet
    revoked_tokens: list[str] = field(default_factory=list)
    # The next device codes issued: who approves them and how the polls go.
    next_logins: list[tuple[TraktUser, list[int], str]] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def user(self, name: str) -> TraktUser:
        account = TraktUser(name)
        self.users.append(account)
        return account

    def login(self, user: TraktUser, before: list[int] | None = None, outcome: str = "approve") -> None:
        """The next device code is entered by `user`: polls get `before` (400s, 429s) first, then the outcome."""
        self.next_logins.append((user, list(before or []), outcome))

    def calls_with(self, token: str) -> list[tuple[str, str, str | None]]:
        return [c for c in self.calls if c[2] == token]

    def tokens_of(self, user: TraktUser) -> list[str]:
        return [t for t, (u, _) in self.access.items() if u is user]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/oauth/device/code", self._device_code)
        app.router.add_post("/oauth/device/token", self._device_token)
        app.router.add_post("/oauth/token", self._refresh)
        app.router.add_post("/oauth/revoke", self._revoke)
        app.router.add_get("/sync/last_activities", self._activities)
        app.router.add_get("/sync/history/movies", self._list("history", "watched_at"))
        app.router.add_get("/sync/ratings/movies", self._list("ratings", "rated_at"))
        app.router.add_get("/sync/watchlist/movies", self._list("watchlist", "listed_at"))
        app.router.add_get("/movies/trending", self._trending)

    def _log(self, request: web.Request) -> str | None:
        bearer = request.headers.get("Authorization", "").removeprefix("Bearer ") or None
        self.calls.append((request.method, request.path, bearer))
        return bearer

    def _app_ok(self, request: web.Request) -> bool:
        return (
            request.headers.get("trakt-api-key") == self.client_id and request.headers.get("trakt-api-version") == "2"
        )

    async def _device_code(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        if body.get("client_id") != self.client_id:
            return web.json_response({"error": "invalid_client"}, status=401)
        user, before, outcome = self.next_logins.pop(0) if self.next_logins else (self.user("someone"), [], "approve")
        code = DeviceCode(user, secrets.token_hex(32), secrets.token_hex(4).upper(), time.time() + self.expires_in)
        code.before, code.outcome = before, outcome
        self.codes[code.code] = code
        return web.json_response(
            {
                "device_code": code.code,
                "user_code": code.user_code,
                "verification_url": "https://trakt.tv/activate",
                "expires_in": self.expires_in,
                "interval": self.interval,
            }
        )

    async def _device_token(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        if body.get("client_id") != self.client_id or body.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_client"}, status=401)
        code = self.codes.get(body.get("code", ""))
        if code is None:
            return web.Response(status=404)
        if code.used:
            return web.Response(status=409)
        if code.before:
            return web.Response(status=code.before.pop(0))
        if code.outcome == "expire" or time.time() > code.expires_at:
            return web.Response(status=410)
        if code.outcome == "deny":
            return web.Response(status=418)
        code.used = True
        return web.json_response(self._issue(code.user))

    async def _refresh(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        user = self.refresh.pop(body.get("refresh_token", ""), None)  # single use
        if body.get("grant_type") != "refresh_token" or body.get("client_secret") != self.client_secret:
            return web.json_response({"error": "invalid_request"}, status=400)
        if user is None or user.revoked:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "The provided authorization grant is invalid"},
                status=401,
            )
        return web.json_response(self._issue(user))

    async def _revoke(self, request: web.Request) -> web.Response:
        self._log(request)
        body = await request.json()
        token = body.get("token", "")
        self.access.pop(token, None)
        self.revoked_tokens.append(token)
        return web.json_response({})

    def _issue(self, user: TraktUser) -> dict[str, Any]:
        access, refresh = secrets.token_hex(32), secrets.token_hex(32)
        self.access[access] = (user, time.time() + self.token_lifetime)
        self.refresh[refresh] = user
        return {
            "access_token": access,
            "token_type": "bearer",
            "expires_in": self.token_lifetime,
            "refresh_token": refresh,
            "scope": "public",
            "created_at": int(time.time()),
        }

    def _authorised(self, request: web.Request) -> TraktUser | web.Response:
        bearer = self._log(request)
        if not self._app_ok(request):
            return web.Response(status=403, text="Forbidden - invalid API key or unapproved app")
        held = self.access.get(bearer or "")
        if held is None or held[1] < time.time() or held[0].revoked:
            return web.Response(status=401, text="Unauthorized - OAuth must be provided")
        return held[0]

    async def _activities(self, request: web.Request) -> web.Response:
        user = self._authorised(request)
        if isinstance(user, web.Response):
            return user
        return web.json_response(user.activities())

    def _list(self, name: str, when: str) -> Any:
        async def handler(request: web.Request) -> web.Response:
            user = self._authorised(request)
            if isinstance(user, web.Response):
                return user
            items: list[dict[str, Any]] = sorted(getattr(user, name), key=lambda i: i[when], reverse=True)
            if start := request.query.get("start_at"):
                since = datetime.fromisoformat(start.replace("Z", "+00:00"))
                items = [i for i in items if datetime.fromisoformat(i[when].replace("Z", "+00:00")) >= since]
            limit = min(int(request.query.get("limit", "10")), self.page_size)
            page = int(request.query.get("page", "1"))
            pages = max(1, math.ceil(len(items) / limit))
            headers = {
                "X-Pagination-Page": str(page),
                "X-Pagination-Limit": str(limit),
                "X-Pagination-Page-Count": str(pages),
                "X-Pagination-Item-Count": str(len(items)),
            }
            return web.json_response(items[(page - 1) * limit : page * limit], headers=headers)

        return handler

    async def _trending(self, request: web.Request) -> web.Response:
        self._log(request)
        if not self._app_ok(request):
            return web.Response(status=403)
        return web.json_response([{"watchers": 1, "movie": movie(1000, "Silent Harbor", 1990)}])


def stamp(day: str) -> str:
    """A Trakt timestamp for a day (UTC noon)."""
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC).isoformat().replace("+00:00", ".000Z")
