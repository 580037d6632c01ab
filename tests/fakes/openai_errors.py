"""OpenAI's error answers, as the fakes of its endpoints send them (the shape the official
client parses into its exceptions)."""

from __future__ import annotations

from aiohttp import web

from tests.fakes.server import Fault


def error(
    status: int,
    message: str,
    kind: str,
    *,
    param: str | None = None,
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    body = {"error": {"message": message, "type": kind, "param": param, "code": code}}
    return web.json_response(body, status=status, headers=headers)


def fault_response(fault: Fault) -> web.Response:
    """A rate limit (429, with the Retry-After asked for) or a server error."""
    headers = {"x-ratelimit-limit-requests": "500", "x-ratelimit-remaining-requests": "0"}
    if fault.retry_after is not None:
        headers["retry-after"] = fault.retry_after
    if fault.status == 429:
        message, kind, code = "Rate limit reached for requests", "requests", "rate_limit_exceeded"
    else:
        message, kind, code = "The server had an error while processing your request.", "server_error", None
    return error(fault.status, message, kind, code=code, headers=headers)
