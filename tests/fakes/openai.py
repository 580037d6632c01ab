"""A fake of OpenAI's Chat Completions wire API on 127.0.0.1, for the official openai client.

It checks requests the way the real API does (the bearer key; a strict json_schema must give
every object `additionalProperties: false` and require every property, and may not use
unsupported keywords; json_object needs the word "json" in the messages), and answers JSON that
conforms to the request's schema (read from `response_format`, or from the system prompt in
json_object mode): film suggestions drawn from the fake TMDB catalogue, or a filled-in object
for any other schema. Like a real model it can echo the user's words in its reasons and, unless
told otherwise, it honours an `exclude` list.

Knobs: `fail()` (the next requests answer a status, with Retry-After), `answer_next()` (a
refusal, a truncated answer, malformed or empty JSON, or given content), `include` (titles the
model insists on suggesting, e.g. films the user watched), `reject_json_schema` (a compatible
server without Structured Outputs), `latency`. `calls` records every request. The embeddings
endpoint, with its own knobs and records, is `embeddings` (tests/fakes/embeddings.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import re
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.embeddings import FakeEmbeddings
from tests.fakes.openai_errors import error, fault_response
from tests.fakes.server import Fault, LoopbackServer, take
from tests.fakes.tmdb import GENRES, FakeTMDB

STRICT_UNSUPPORTED = {"minLength", "maxLength", "patternProperties", "unevaluatedProperties", "propertyNames"}


@dataclass
class ChatCall:
    model: str
    mode: str | None  # json_schema, json_object or None
    schema_name: str | None
    system: str
    user: str
    at: float
    status: int = 200
    tokens: int = 0  # what the answer's usage billed


@dataclass
class Scripted:
    kind: str  # refusal, truncated, malformed, empty, content
    remaining: int
    content: str | None = None
    after: int = 0


@dataclass
class FakeOpenAI(LoopbackServer):
    tmdb: FakeTMDB | None = None
    api_key: str = "sk-test-fake-key"
    latency: float = 0.0
    reject_json_schema: bool = False
    include: list[tuple[str, int | None]] = field(default_factory=list)  # (title, year) always suggested
    models: list[str] = field(default_factory=lambda: ["gpt-4o-mini", "text-embedding-3-small"])
    calls: list[ChatCall] = field(default_factory=list)
    embeddings: FakeEmbeddings = field(default_factory=FakeEmbeddings)  # POST /v1/embeddings
    _faults: list[Fault] = field(default_factory=list)
    _scripted: list[Scripted] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.embeddings.api_key = self.api_key

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def fail(self, status: int, times: int = 1, retry_after: str | None = None, *, after: int = 0) -> None:
        """The next `times` chat calls (after letting `after` through) answer `status`."""
        self._faults.append(Fault(status, times, retry_after, after=after))

    def answer_next(self, kind: str, times: int = 1, content: str | None = None) -> None:
        self._scripted.append(Scripted(kind, times, content))

    def completions(self, schema_name: str | None = None) -> list[ChatCall]:
        """Requests that got an answer (200), optionally only those for one schema."""
        return [c for c in self.calls if c.status == 200 and (schema_name is None or c.schema_name == schema_name)]

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/embeddings", self.embeddings.handle)

    async def _models(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
        data = [{"id": m, "object": "model", "created": 1_700_000_000, "owned_by": "fake"} for m in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _chat(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.calls.append(ChatCall("", None, None, "", "", time.monotonic(), status=401))
            return error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
        try:
            body = await request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        messages = body.get("messages") or []
        system = next((m.get("content") or "" for m in messages if m.get("role") == "system"), "")
        user = next((m.get("content") or "" for m in messages if m.get("role") == "user"), "")
        response_format = body.get("response_format") or {}
        mode = response_format.get("type")
        schema_name = (response_format.get("json_schema") or {}).get("name") if mode == "json_schema" else None
        schema = (response_format.get("json_schema") or {}).get("schema") if mode == "json_schema" else None
        if mode == "json_object":
            schema = _schema_in_prompt(system)
            schema_name = _name_of(schema)
        call = ChatCall(str(body.get("model")), mode, schema_name, system, user, time.monotonic())
        self.calls.append(call)
        response = await self._answer(call, body, messages, schema)
        call.status = response.status
        return response

    async def _answer(
        self, call: ChatCall, body: dict[str, Any], messages: list[dict[str, Any]], schema: Any
    ) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        if not body.get("model") or not messages:
            return error(400, "you must provide a model parameter", "invalid_request_error", param="model")
        if fault := take(self._faults):
            return fault_response(fault)
        if call.mode == "json_schema":
            if self.reject_json_schema:
                return error(
                    400,
                    "response_format of type 'json_schema' is not supported by this server",
                    "invalid_request_error",
                    param="response_format",
                )
            problem = _strict_problem(schema, "schema")
            if problem:
                return error(
                    400,
                    f"Invalid schema for response_format '{call.schema_name}': {problem}",
                    "invalid_request_error",
                    param="response_format",
                )
        if call.mode == "json_object" and "json" not in " ".join(str(m.get("content")) for m in messages).lower():
            return error(
                400,
                "'messages' must contain the word 'json' in some form, to use 'response_format' of type 'json_object'.",
                "invalid_request_error",
                param="messages",
            )
        content: str | None = json.dumps(self._content(call, schema))
        finish, refusal = "stop", None
        if scripted := take(self._scripted):
            if scripted.kind == "refusal":
                content, refusal = None, "I'm sorry, but I can't help with that request."
            elif scripted.kind == "truncated":
                assert content is not None
                content, finish = content[: len(content) // 2], "length"
            elif scripted.kind == "malformed":
                content = "Sure! Here are some great films you might enjoy: 1. Heat 2. Ronin"
            elif scripted.kind == "empty":
                content = ""
            else:
                content = scripted.content
        if call.mode == "json_object" and content:
            content = f"```json\n{content}\n```"  # what some compatible servers do
        prompt_tokens = sum(len(str(m.get("content") or "")) for m in messages) // 4 + 7
        completion_tokens = len(content or refusal or "") // 4 + 1
        call.tokens = prompt_tokens + completion_tokens
        return web.json_response(
            {
                "id": f"chatcmpl-{hashlib.sha1(str(time.time_ns()).encode()).hexdigest()[:24]}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": call.model,
                "system_fingerprint": "fp_fake",
                "service_tier": "default",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content, "refusal": refusal, "annotations": []},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": completion_tokens,
                    "total_tokens": prompt_tokens + completion_tokens,
                },
            },
            headers={"x-request-id": f"req_{len(self.calls)}", "openai-processing-ms": "12"},
        )

    # ------------------------------------------------------------------ the "model"
    def _content(self, call: ChatCall, schema: Any) -> Any:
        data = _json(call.user)
        if isinstance(schema, dict) and "suggestions" in schema.get("properties", {}):
            suggestions = self._suggest(data)
            participants = data.get("participants")
            if isinstance(participants, list) and participants:
                # A movie night's: which participants (by number) each film suits.
                n = len(participants)
                for i, suggestion in enumerate(suggestions):
                    suggestion["suits"] = sorted({1 + i % n, 1 + (i + 1) % n})
            return {"suggestions": suggestions}
        return _fill(schema, schema, call.user)

    def _suggest(self, data: dict[str, Any]) -> list[dict[str, Any]]:
        films = self.tmdb.films if self.tmdb else []
        request = str(data.get("request") or json.dumps(data.get("taste_profile") or data))
        excluded = {str(t).lower() for t in data.get("exclude") or []}
        films = [f for f in films if _meets(f, data.get("constraints") or {})]  # it mostly follows them
        words = {w for w in re.findall(r"[a-z]+", request.lower()) if len(w) > 3}
        named = [f for f in films if words & set(f["title"].lower().split())]
        rng = random.Random(hashlib.sha256(request.encode()).digest())
        others = rng.sample(films, min(len(films), 40))
        chosen: list[dict[str, Any]] = []
        for film in [*named, *others]:
            if film["title"].lower() not in excluded and film not in chosen:
                chosen.append(film)
        picks = [(t, y) for t, y in self.include] + [(f["title"], int(f["release_date"][:4])) for f in chosen]
        return [
            {"title": title, "year": year, "reason": f"Fits “{request[:60]}”: a {title.split()[-1].lower()} story."}
            for title, year in picks[:8]
        ]


def _meets(film: dict[str, Any], constraints: dict[str, Any]) -> bool:
    """Whether a fake film meets the constraints a request carries (genre, decade, language)."""
    genre = constraints.get("genre")
    if genre is not None and not any(GENRES.get(g) == genre for g in film["genre_ids"]):
        return False
    between = str(constraints.get("released_between") or "")
    if between and between[:3] != film["release_date"][:3]:
        return False
    language = constraints.get("original_language_iso_639_1")
    return language is None or film.get("original_language") == language


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {"request": text}
    return value if isinstance(value, dict) else {"request": text}


def _schema_in_prompt(system: str) -> Any:
    start = system.find("{", system.lower().find("json schema"))
    try:
        return json.loads(system[start:]) if start >= 0 else None
    except ValueError:
        return None


def _name_of(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    properties = schema.get("properties", {})
    return "suggestions" if "suggestions" in properties else "tasteprofile" if "summary" in properties else None


def _strict_problem(node: Any, where: str) -> str | None:
    """What the real API rejects in a strict schema, or None."""
    if isinstance(node, list):
        return next((p for i, item in enumerate(node) if (p := _strict_problem(item, f"{where}[{i}]"))), None)
    if not isinstance(node, dict):
        return None
    bad = STRICT_UNSUPPORTED & node.keys()
    if bad:
        return f"In context={where}, '{sorted(bad)[0]}' is not permitted."
    if node.get("type") == "object":
        properties = node.get("properties", {})
        if node.get("additionalProperties") is not False:
            return f"In context={where}, 'additionalProperties' is required to be supplied and to be false."
        if sorted(node.get("required", [])) != sorted(properties):
            return (
                f"In context={where}, 'required' is required to be supplied and to be an array including "
                "every key in properties."
            )
    return next((p for key, value in node.items() if (p := _strict_problem(value, f"{where}.{key}"))), None)


def _fill(node: Any, root: Any, seed: str) -> Any:
    """A value that conforms to `node` (for schemas other than suggestions)."""
    if not isinstance(node, dict):
        return None
    if "$ref" in node:
        target: Any = root
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        return _fill(target, root, seed)
    if "anyOf" in node:
        return _fill(node["anyOf"][0], root, seed)
    kind = node.get("type")
    if kind == "object":
        return {name: _fill(prop, root, f"{seed}:{name}") for name, prop in node.get("properties", {}).items()}
    if kind == "array":
        return [_fill(node.get("items", {}), root, f"{seed}:{n}") for n in range(3)]
    if kind == "integer":
        return 1990 + int(hashlib.sha256(seed.encode()).hexdigest(), 16) % 30
    if kind == "string":
        return f"item {hashlib.sha256(seed.encode()).hexdigest()[:6]}"
    return None
