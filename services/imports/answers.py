"""Where an import reports: the interaction that started it, for as long as Discord lets it be
edited (15 minutes from the command), else the user's DMs. The interaction's token is kept in
Redis only, for that long, and never written to the database or a log."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from arq.connections import ArqRedis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

ANSWER_TTL = 14 * 60  # seconds: a little under Discord's 15 minutes


@dataclass(frozen=True)
class AnswerHandle:
    application_id: int
    token: str


def _key(import_id: int) -> str:
    return f"import:answer:{import_id}"


async def remember(redis: ArqRedis, import_id: int, handle: AnswerHandle) -> None:
    try:
        value = json.dumps({"application_id": handle.application_id, "token": handle.token})
        await redis.set(_key(import_id), value, ex=ANSWER_TTL)
    except (RedisError, OSError) as exc:
        log.warning("import %d will report by DM: %s", import_id, type(exc).__name__)


async def recall(redis: ArqRedis, import_id: int) -> AnswerHandle | None:
    try:
        raw = await redis.get(_key(import_id))
    except (RedisError, OSError):
        return None
    if raw is None:
        return None
    data = json.loads(raw)
    return AnswerHandle(int(data["application_id"]), str(data["token"]))
