"""Embeddings on the official openai client: batched within the API's limits, validated, and
returned as unit-length float32 rows (numpy), so cosine similarity is a dot product.

- One request holds at most 2048 inputs and 300k tokens (OpenAI's limits). Tokens are estimated
  from the UTF-8 length (3 bytes a token: more than English text needs), so a batch never goes
  over; each text is clamped far below the 8192-token limit of one input.
- `dimensions` is always sent (text-embedding-3 models shorten their vectors to it).
- The answer comes as base64 (the client's default, and 4× smaller than JSON floats); a server
  that sends float lists anyway is read too. A vector of the wrong size, NaN, zero length or a
  missing index is an unusable answer, never stored.
- The client's own retries are off (like the LLM's): the request path waits for a Retry-After
  only when it fits its deadline; the worker makes one attempt and lets arq retry the job.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import openai
from openai.types import CreateEmbeddingResponse

from services.ai.llm import error_text
from services.backoff import OPENAI_RETRYABLE, next_wait, retry_after_of
from services.errors import EmbeddingsUnavailable
from services.metrics import Metrics

log = logging.getLogger(__name__)

Matrix = npt.NDArray[np.float32]

MAX_INPUTS = 2048
MAX_REQUEST_TOKENS = 300_000
MAX_INPUT_CHARS = 6000  # ~2000 tokens at worst: far under the 8192 of one input


@dataclass(frozen=True, order=True)
class Space:
    """An embedding space: vectors of one model at one size compare only with each other."""

    model: str
    dimensions: int

    def __str__(self) -> str:
        return f"{self.model}@{self.dimensions}"


@dataclass(frozen=True)
class EmbedPolicy:
    deadline: float = 8.0  # seconds, retries included
    attempts: int = 3
    base_delay: float = 0.25


REQUEST_PATH = EmbedPolicy()
BACKGROUND = EmbedPolicy(deadline=60.0, attempts=1)  # arq retries the job, honouring Retry-After


def estimate_tokens(text: str) -> int:
    return len(text.encode()) // 3 + 1


def batches(
    texts: Sequence[str], max_inputs: int = MAX_INPUTS, max_tokens: int = MAX_REQUEST_TOKENS
) -> Iterator[slice]:
    """Consecutive slices of `texts`, each within both limits of one request."""
    start, tokens = 0, 0
    for index, text in enumerate(texts):
        cost = estimate_tokens(text)
        if index > start and (index - start >= max_inputs or tokens + cost > max_tokens):
            yield slice(start, index)
            start, tokens = index, 0
        tokens += cost
    if start < len(texts):
        yield slice(start, len(texts))


def normalised(vectors: Matrix) -> Matrix:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.where(norms == 0, 1, norms)).astype(np.float32, copy=False)


class Embedder:
    def __init__(self, client: openai.AsyncOpenAI, metrics: Metrics, *, max_inputs: int = MAX_INPUTS) -> None:
        self.client = client
        self._metrics = metrics
        self.max_inputs = max_inputs  # inputs per request (tests and benchmarks lower it)

    async def embed(
        self, texts: Sequence[str], space: Space, *, purpose: str, policy: EmbedPolicy = REQUEST_PATH
    ) -> Matrix:
        """One unit-length row per text, in order (as many requests as the limits need)."""
        clamped = [text[:MAX_INPUT_CHARS] or "-" for text in texts]  # the API refuses empty strings
        rows = [
            await self._request(clamped[part], space, purpose, policy)
            for part in batches(clamped, max_inputs=self.max_inputs)
        ]
        return np.vstack(rows) if rows else np.zeros((0, space.dimensions), dtype=np.float32)

    async def _request(self, texts: list[str], space: Space, purpose: str, policy: EmbedPolicy) -> Matrix:
        deadline = time.monotonic() + policy.deadline
        for attempt in range(policy.attempts):
            started = time.perf_counter()
            try:
                response = await self.client.embeddings.create(
                    model=space.model,
                    input=texts,
                    dimensions=space.dimensions,
                    encoding_format="base64",
                    timeout=max(0.1, deadline - time.monotonic()),
                )
            except OPENAI_RETRYABLE as exc:
                self._record(space, purpose, "busy", started)
                wait = next_wait(exc, attempt, policy, deadline)
                if wait is None:
                    raise EmbeddingsUnavailable(type(exc).__name__, retry_after=retry_after_of(exc)) from exc
                log.info("embeddings %s: %s, retrying in %.1fs", space, type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            except openai.APIStatusError as exc:
                self._record(space, purpose, "error", started)
                log.error("the embeddings API answered %d for %s: %s", exc.status_code, space, error_text(exc))
                raise EmbeddingsUnavailable(f"HTTP {exc.status_code}") from exc
            vectors = _vectors(response, len(texts), space.dimensions)
            self._record(space, purpose, "ok" if vectors is not None else "malformed", started, response, len(texts))
            if vectors is None:
                raise EmbeddingsUnavailable("a malformed answer")
            return vectors
        raise AssertionError("unreachable: the last attempt raises")

    def _record(
        self,
        space: Space,
        purpose: str,
        outcome: str,
        started: float,
        response: CreateEmbeddingResponse | None = None,
        inputs: int = 0,
    ) -> None:
        metrics = self._metrics
        metrics.embedding_requests.labels(space.model, purpose, outcome).inc()
        usage = getattr(response, "usage", None)  # an unvalidated answer may lack it
        tokens = getattr(usage, "total_tokens", 0) if usage is not None else 0
        tokens = tokens if isinstance(tokens, int) and tokens >= 0 else 0
        if response is not None:
            metrics.embedding_inputs.labels(space.model, purpose).inc(inputs)
            metrics.embedding_tokens.labels(space.model).inc(tokens)
        log.info(
            "embeddings call model=%s dimensions=%d purpose=%s outcome=%s inputs=%d tokens=%d latency_ms=%.0f",
            space.model,
            space.dimensions,
            purpose,
            outcome,
            inputs,
            tokens,
            (time.perf_counter() - started) * 1000,
        )


def _vectors(response: CreateEmbeddingResponse, count: int, dimensions: int) -> Matrix | None:
    """The answer's vectors in input order, or None when it is not exactly one good vector per
    input. The client does not validate the answer, so every field is checked here: an item
    without an index (or with one repeated or out of range) is a bad answer like a NaN."""
    data = getattr(response, "data", None)
    if not isinstance(data, list) or len(data) != count:
        return None
    rows: list[Matrix | None] = [None] * count
    for item in data:
        index = getattr(item, "index", None)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < count or rows[index] is not None:
            return None
        raw: object = getattr(item, "embedding", None)
        try:
            if isinstance(raw, str):
                vector = np.frombuffer(base64.b64decode(raw, validate=True), dtype="<f4").astype(np.float32)
            elif isinstance(raw, list):
                vector = np.asarray(raw, dtype=np.float32)
            else:
                return None
        except (ValueError, TypeError):
            return None
        if vector.shape != (dimensions,) or not np.isfinite(vector).all() or not vector.any():
            return None
        rows[index] = vector
    return normalised(np.vstack(rows))  # type: ignore[arg-type]  # every row was set: count items, no repeat
