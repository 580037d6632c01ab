"""The embeddings half of the fake OpenAI server: POST /v1/embeddings in the real wire format.

Requests are checked as the real API checks them: the bearer key, a known model, `input` as a
string or a list of strings or token arrays (no empty string, at most 2048 items, at most 300k
tokens in all and 8192 in one), `dimensions` only for text-embedding-3 models and no larger
than the model's size, `encoding_format` float or base64 (base64 is little-endian float32).

Vectors are deterministic and mean something: each word (lower-cased, a plural's "s" dropped,
stop words left out) adds a signed weight to hashed coordinates, so texts that share words are
close and texts that share none are nearly orthogonal; each model hashes differently, so
vectors of different models do not compare, as in life.

Knobs: `fail()` (the next requests answer a status, with Retry-After; `after` lets that many
through first), `latency`, `tamper` (rewrites the `data` items of the next answers, as a broken
compatible server would send them: no `index`, one repeated or skipped). `calls` records every
request.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from aiohttp import web

from tests.fakes.openai_errors import error, fault_response
from tests.fakes.server import Fault, take

MODELS = {"text-embedding-3-small": 1536, "text-embedding-3-large": 3072, "text-embedding-ada-002": 1536}
MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
MAX_INPUT_TOKENS = 8192
# Words every film's text has (the fake catalogue's and film_text's own), and English glue.
_GLUE = (
    "a an and are as at be by for from has in is it its of on or that the this to was what with who about films "
    "film movie movies story number they hide directed starring genres keywords actor director tagline"
)
STOP_WORDS = frozenset(_GLUE.split(" "))


@dataclass
class EmbeddingCall:
    model: str
    inputs: list[str]
    dimensions: int | None
    encoding: str
    at: float
    status: int = 200


def tokens(text: str) -> int:
    return len(text) // 4 + 1


def words(text: str) -> list[str]:
    found = re.findall(r"[a-z0-9]+", text.lower())
    return [w[:-1] if len(w) > 3 and w.endswith("s") else w for w in found if w not in STOP_WORDS and len(w) > 2]


def fake_vector(text: str, model: str, dimensions: int) -> np.ndarray:
    vector = np.zeros(dimensions, dtype=np.float64)
    for word in words(text):
        digest = hashlib.sha256(f"{model}\0{word}".encode()).digest()
        for k in range(3):  # each word lights three coordinates
            index = int.from_bytes(digest[4 * k : 4 * k + 4], "little") % dimensions
            vector[index] += 1.0 if digest[12 + k] & 1 else -1.0
    # A little of the whole text, so that texts with the same words are close but not equal.
    noise = np.frombuffer(hashlib.sha256(f"{model}\0{text}".encode()).digest() * (dimensions // 32 + 1), np.uint8)
    vector += (noise[:dimensions].astype(np.float64) - 127.5) / 127.5 * 0.02
    return (vector / np.linalg.norm(vector)).astype(np.float32)


@dataclass
class FakeEmbeddings:
    """Mixed into FakeOpenAI (which owns the key and the routes)."""

    api_key: str = "sk-test-fake-key"
    latency: float = 0.0
    calls: list[EmbeddingCall] = field(default_factory=list)
    tamper: Callable[[list[dict[str, Any]]], list[dict[str, Any]]] | None = None
    _faults: list[Fault] = field(default_factory=list)

    def fail(self, status: int, times: int = 1, retry_after: str | None = None, *, after: int = 0) -> None:
        self._faults.append(Fault(status, times, retry_after, after=after))

    def answered(self) -> list[EmbeddingCall]:
        return [c for c in self.calls if c.status == 200]

    def texts(self) -> list[str]:
        """Every text embedded (answered), in order."""
        return [text for call in self.answered() for text in call.inputs]

    async def handle(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            self.calls.append(EmbeddingCall("", [], None, "", time.monotonic(), status=401))
            return error(401, "Incorrect API key provided.", "invalid_request_error", code="invalid_api_key")
        try:
            body = await request.json()
        except ValueError:
            return error(400, "We could not parse the JSON body of your request.", "invalid_request_error")
        inputs = body.get("input")
        texts = [inputs] if isinstance(inputs, str) else inputs if isinstance(inputs, list) else None
        model = str(body.get("model") or "")
        call = EmbeddingCall(
            model,
            [t if isinstance(t, str) else " ".join(map(str, t)) for t in texts or []],
            body.get("dimensions"),
            str(body.get("encoding_format") or "float"),
            time.monotonic(),
        )
        self.calls.append(call)
        if self.latency:
            await asyncio.sleep(self.latency)
        response = self._answer(call, texts)
        call.status = response.status
        return response

    def _answer(self, call: EmbeddingCall, texts: list[Any] | None) -> web.Response:
        if call.model not in MODELS:
            return error(
                404,
                f"The model `{call.model}` does not exist or you do not have access to it.",
                "invalid_request_error",
                code="model_not_found",
            )
        if not texts or any(t == "" or t == [] for t in texts):
            return error(400, "'$.input' is invalid. Please check the API reference.", "invalid_request_error")
        if len(texts) > MAX_INPUTS:
            return error(
                400,
                f"'$.input' is too long: {len(texts)} items, the maximum is {MAX_INPUTS}.",
                "invalid_request_error",
                param="input",
            )
        counts = [tokens(t) if isinstance(t, str) else len(t) for t in texts]
        if max(counts) > MAX_INPUT_TOKENS:
            return error(
                400, f"This model's maximum context length is {MAX_INPUT_TOKENS} tokens.", "invalid_request_error"
            )
        if sum(counts) > MAX_REQUEST_TOKENS:
            return error(
                400,
                f"Requested {sum(counts)} tokens, max {MAX_REQUEST_TOKENS} tokens per request",
                "max_tokens_per_request",
                code="max_tokens_per_request",
            )
        size = MODELS[call.model]
        dimensions = call.dimensions or size
        if call.dimensions is not None:
            if not call.model.startswith("text-embedding-3"):
                return error(400, "This model does not support specifying dimensions.", "invalid_request_error")
            if not isinstance(call.dimensions, int) or not 1 <= call.dimensions <= size:
                return error(
                    400, f"dimensions must be between 1 and {size}.", "invalid_request_error", param="dimensions"
                )
        if call.encoding not in ("float", "base64"):
            return error(400, "encoding_format must be 'float' or 'base64'.", "invalid_request_error")
        if fault := take(self._faults):
            return fault_response(fault)
        data = []
        for index, text in enumerate(call.inputs):
            vector = fake_vector(text, call.model, dimensions)
            encoded: Any = (
                base64.b64encode(vector.astype("<f4").tobytes()).decode()
                if call.encoding == "base64"
                else [float(x) for x in vector]
            )
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        if self.tamper is not None:
            data = self.tamper(data)
        usage = {"prompt_tokens": sum(counts), "total_tokens": sum(counts)}
        return web.json_response(
            {"object": "list", "data": data, "model": call.model, "usage": usage},
            headers={"x-request-id": f"req_emb_{len(self.calls)}", "openai-processing-ms": "9"},
        )
