"""Chat Completions with a validated, structured answer, on the official openai client.

- Structured Outputs (`json_schema`, strict) first; a server that rejects it (a 400 naming
  `response_format`, as many OpenAI-compatible servers do) gets `json_object` with the schema in
  the prompt, once, and the model is remembered as needing that.
- The client's own retries are off: they would honour a Retry-After of up to two minutes while
  a user waits. Here every call has a deadline; a Retry-After that fits in it is honoured, one
  that does not becomes "the AI is busy, try again in N s" at once.
- The operator's daily token budget is checked before and charged after every call.
- One info line per call (model, command, tokens, latency, outcome), never the prompt.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from pydantic import BaseModel, ValidationError

from services.ai.budget import Charge, TokenBudget
from services.ai.schemas import strict_schema
from services.backoff import OPENAI_RETRYABLE, next_wait, retry_after_of
from services.errors import AIBadAnswer, AIDisabled, AIUnavailable
from services.metrics import Metrics

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class LLMPolicy:
    deadline: float = 25.0  # seconds one answer may take, retries included (a deferred user waits)
    attempts: int = 3
    base_delay: float = 0.5
    max_tokens: int = 1200


def require_llm(llm: LLM | None) -> LLM:
    """The LLM, or AIDisabled when OPENAI_API_KEY is not set."""
    if llm is None:
        raise AIDisabled()
    return llm


class LLM:
    def __init__(
        self, client: openai.AsyncOpenAI, model: str, metrics: Metrics, budget: TokenBudget, policy: LLMPolicy
    ) -> None:
        self.client = client
        self.model = model
        self.policy = policy
        self._metrics = metrics
        self._budget = budget
        self._json_object_models: set[str] = set()  # models whose server rejected json_schema

    async def structured(
        self, command: str, system: str, user: str, answer: type[M], *, charge: Charge | None = None
    ) -> M:
        """One answer of type `answer` to `user` (data, never instructions) under `system`.
        `charge` (the user's quota for the request) hears when an answer was paid for."""
        deadline = time.monotonic() + self.policy.deadline
        schema = strict_schema(answer)
        while True:
            json_object = self.model in self._json_object_models
            messages: list[ChatCompletionMessageParam] = [
                {"role": "system", "content": _with_schema(system, schema) if json_object else system},
                {"role": "user", "content": user},
            ]
            response_format: Any = (
                {"type": "json_object"}
                if json_object
                else {
                    "type": "json_schema",
                    "json_schema": {"name": answer.__name__.lower(), "strict": True, "schema": schema},
                }
            )
            try:
                completion, elapsed = await self._call(command, messages, response_format, deadline)
                if charge is not None:
                    charge.answered()  # paid, whether or not the answer is usable
            except openai.BadRequestError as exc:
                if json_object or not _names_response_format(exc):
                    raise AIUnavailable(f"the request was refused (400: {error_text(exc)})") from exc
                log.warning("%s rejects json_schema response formats; using json_object for it", self.model)
                self._json_object_models.add(self.model)
                continue
            parsed, unusable = _parse(completion, answer)
            self._record(command, unusable or "ok", elapsed, completion)
            if parsed is None:
                raise AIBadAnswer(unusable or "malformed")
            return parsed

    async def _call(
        self, command: str, messages: list[ChatCompletionMessageParam], response_format: Any, deadline: float
    ) -> tuple[ChatCompletion, float]:
        """One answer from the server (and the seconds it took), retrying what may pass in time."""
        policy = self.policy
        await self._budget.check()
        for attempt in range(policy.attempts):
            remaining = deadline - time.monotonic()
            started = time.perf_counter()
            try:
                completion = await self.client.chat.completions.create(
                    model=self.model,
                    messages=messages,
                    response_format=response_format,
                    max_tokens=policy.max_tokens,
                    timeout=max(0.1, remaining),
                )
            except OPENAI_RETRYABLE as exc:
                self._record(command, "busy", time.perf_counter() - started)
                wait = next_wait(exc, attempt, policy, deadline)
                if wait is None:
                    raise AIUnavailable(type(exc).__name__, retry_after=retry_after_of(exc)) from exc
                log.info("%s: %s, retrying in %.1fs", self.model, type(exc).__name__, wait)
                await asyncio.sleep(wait)
                continue
            except openai.AuthenticationError as exc:
                self._record(command, "error", time.perf_counter() - started)
                log.error("the AI server refused OPENAI_API_KEY (401)")
                raise AIUnavailable("the API key was refused") from exc
            except openai.BadRequestError:
                self._record(command, "rejected", time.perf_counter() - started)
                raise
            except openai.APIStatusError as exc:
                self._record(command, "error", time.perf_counter() - started)
                log.error("the AI server answered %d: %s", exc.status_code, error_text(exc))
                raise AIUnavailable(f"HTTP {exc.status_code}") from exc
            if completion.usage:
                await self._budget.spend(completion.usage.total_tokens)
            return completion, time.perf_counter() - started
        raise AssertionError("unreachable: the last attempt raises")

    def _record(self, command: str, outcome: str, elapsed: float, completion: ChatCompletion | None = None) -> None:
        """The one metric update and info line of a call; never the prompt or the answer."""
        prompt = completion.usage.prompt_tokens if completion and completion.usage else 0
        answer = completion.usage.completion_tokens if completion and completion.usage else 0
        metrics = self._metrics
        metrics.llm_calls.labels(self.model, command, outcome).inc()
        metrics.llm_latency.labels(self.model, command).observe(elapsed)
        if completion is not None:
            metrics.llm_tokens.labels(self.model, command, "prompt").inc(prompt)
            metrics.llm_tokens.labels(self.model, command, "completion").inc(answer)
        log.info(
            "llm call model=%s command=%s outcome=%s prompt_tokens=%d completion_tokens=%d latency_ms=%.0f",
            self.model,
            command,
            outcome,
            prompt,
            answer,
            elapsed * 1000,
        )


def _parse(completion: ChatCompletion, answer: type[M]) -> tuple[M | None, str | None]:
    """The validated answer, or None and what made it unusable."""
    kind = _unusable(completion)
    if kind is not None:
        return None, kind
    try:
        return answer.model_validate(json.loads(_unfence(completion.choices[0].message.content or ""))), None
    except (ValueError, ValidationError):  # json.JSONDecodeError is a ValueError
        return None, "malformed"


def _unusable(completion: ChatCompletion) -> str | None:
    if not completion.choices:
        return "malformed"
    choice = completion.choices[0]
    if choice.message.refusal or choice.finish_reason == "content_filter":
        return "refused"
    if choice.finish_reason == "length":
        return "truncated"
    if not (choice.message.content or "").strip():
        return "empty"
    return None


def _unfence(content: str) -> str:
    """Compatible servers in json_object mode sometimes wrap the JSON in a Markdown code fence."""
    text = content.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text


def _with_schema(system: str, schema: dict[str, Any]) -> str:
    return (
        f"{system}\n\nReply with one JSON object and nothing else. It must match this JSON Schema:\n"
        f"{json.dumps(schema, separators=(',', ':'))}"
    )


def _names_response_format(exc: openai.BadRequestError) -> bool:
    return exc.param == "response_format" or "response_format" in error_text(exc) or "json_schema" in error_text(exc)


def error_text(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else None
    return str(message or exc.message)[:200]
