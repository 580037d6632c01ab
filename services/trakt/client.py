"""Trakt's API (v2): the OAuth device flow, token refresh and revocation, and the user's films
(watched, rated, watchlisted), every page read (`X-Pagination-Page-Count`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from services.backoff import retry_after_seconds
from services.errors import TraktUnavailable

log = logging.getLogger(__name__)

PAGE_LIMIT = 1000  # items per page asked for (Trakt may send fewer)
MAX_PAGES = 200


class TraktRevoked(Exception):
    """Trakt refused the user's token (revoked, expired, or its refresh token already used)."""


class DeviceRefused(Exception):
    """The device code's answer that ends the flow: expired, denied, unknown or already used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "expired", "denied", "invalid", "used"


class Pending(Exception):
    """The user has not approved yet; `slow_down` when Trakt asks to poll less often."""

    def __init__(self, slow_down: bool = False) -> None:
        super().__init__("slow down" if slow_down else "pending")
        self.slow_down = slow_down


@dataclass(frozen=True)
class DeviceCode:
    device_code: str
    user_code: str
    verification_url: str
    expires_in: int
    interval: int


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime

    @classmethod
    def from_trakt(cls, data: dict[str, Any]) -> Tokens:
        created = datetime.fromtimestamp(int(data.get("created_at") or datetime.now(UTC).timestamp()), UTC)
        return cls(
            str(data["access_token"]),
            str(data["refresh_token"]),
            created + timedelta(seconds=int(data.get("expires_in") or 86400)),
        )


# Device token answers (Trakt's docs): 400 pending, 404 invalid code, 409 already used,
# 410 expired, 418 denied, 429 slow down.
DEVICE_REFUSALS = {404: "invalid", 409: "used", 410: "expired", 418: "denied"}


class TraktAPI:
    def __init__(self, http: aiohttp.ClientSession, base_url: str, client_id: str, client_secret: str) -> None:
        self._http = http
        self._base = base_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret

    async def device_code(self) -> DeviceCode:
        status, data, _ = await self._call("POST", "/oauth/device/code", body={"client_id": self._client_id})
        if status != 200:
            raise TraktUnavailable(f"device code: HTTP {status}")
        return DeviceCode(
            str(data["device_code"]),
            str(data["user_code"]),
            str(data["verification_url"]),
            int(data["expires_in"]),
            max(1, int(data["interval"])),
        )

    async def device_token(self, device_code: str) -> Tokens:
        """Tokens once the user approved; Pending before that; DeviceRefused when it is over."""
        body = {"code": device_code, "client_id": self._client_id, "client_secret": self._client_secret}
        status, data, _ = await self._call(
            "POST", "/oauth/device/token", body=body, statuses=(400, 429, *DEVICE_REFUSALS)
        )
        if status == 200:
            return Tokens.from_trakt(data)
        if status in (400, 429):
            raise Pending(slow_down=status == 429)
        raise DeviceRefused(DEVICE_REFUSALS[status])

    async def refresh(self, refresh_token: str) -> Tokens:
        body = {
            "refresh_token": refresh_token,
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "redirect_uri": "urn:ietf:wg:oauth:2.0:oob",
            "grant_type": "refresh_token",
        }
        status, data, _ = await self._call("POST", "/oauth/token", body=body, statuses=(400, 401))
        if status != 200:
            raise TraktRevoked(f"refresh refused: HTTP {status}")
        return Tokens.from_trakt(data)

    async def revoke(self, access_token: str) -> None:
        body = {"token": access_token, "client_id": self._client_id, "client_secret": self._client_secret}
        await self._call("POST", "/oauth/revoke", body=body, statuses=(400, 401, 403))

    async def last_activities(self, token: str) -> dict[str, Any]:
        _, data, _ = await self._call("GET", "/sync/last_activities", token=token)
        return data if isinstance(data, dict) else {}

    async def every_page(self, path: str, token: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a list, page by page until `X-Pagination-Page-Count`."""
        items: list[dict[str, Any]] = []
        page, pages = 1, 1
        while page <= min(pages, MAX_PAGES):
            query = {**(params or {}), "page": str(page), "limit": str(PAGE_LIMIT)}
            _, data, headers = await self._call("GET", path, token=token, params=query)
            if isinstance(data, list):
                items.extend(i for i in data if isinstance(i, dict))
            pages = int(headers.get("X-Pagination-Page-Count") or 1)
            page += 1
        return items

    async def _call(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        body: dict[str, Any] | None = None,
        params: dict[str, str] | None = None,
        statuses: tuple[int, ...] = (),
    ) -> tuple[int, Any, dict[str, str]]:
        headers = {
            "Content-Type": "application/json",
            "trakt-api-version": "2",
            "trakt-api-key": self._client_id,
            "User-Agent": "Marquee (Discord bot)",
        }
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            async with self._http.request(
                method,
                self._base + path,
                json=body,
                params=params,
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=20),
            ) as response:
                status = response.status
                if status in statuses:
                    return status, await _json(response), dict(response.headers)
                if status == 401 and token:
                    raise TraktRevoked("token refused (401)")
                if status == 429 or status >= 500 or status in (403, 420):
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                    raise TraktUnavailable(f"HTTP {status}", wait)
                if status >= 400:
                    raise TraktUnavailable(f"HTTP {status} for {path}")
                return status, await _json(response), dict(response.headers)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise TraktUnavailable(type(exc).__name__) from exc


async def _json(response: aiohttp.ClientResponse) -> Any:
    try:
        return await response.json(content_type=None)
    except ValueError:
        return {}
