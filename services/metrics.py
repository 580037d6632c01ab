"""Every metric Marquee exports, on prometheus-client. Each process has its own registry and
serves it itself (the web server's /metrics, or METRICS_PORT for `marquee bot` and `marquee
worker`), so a scrape of each process sees what that process did."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, exposition, generate_latest

CONTENT_TYPE = exposition.CONTENT_TYPE_LATEST


class Metrics:
    """One instance per process, handed to whoever records."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "marquee_commands",
            "App commands and components run, by command and outcome.",
            ("command", "outcome"),
            registry=self.registry,
        )
        self.command_latency = Histogram(
            "marquee_command_seconds", "Time to finish an app command.", ("command",), registry=self.registry
        )
        self.tmdb_requests = Counter(
            "marquee_tmdb_requests", "HTTP requests sent to TMDB, by status.", ("status",), registry=self.registry
        )
        self.tmdb_latency = Histogram("marquee_tmdb_request_seconds", "TMDB request latency.", registry=self.registry)
        self.cache = Counter(
            "marquee_cache", "Cache lookups, by result (hit, miss, error).", ("result",), registry=self.registry
        )
        self.tmdb_bad_data = Counter(
            "marquee_tmdb_bad_data",
            "TMDB 200 answers that failed to parse or validate (retried, never cached).",
            registry=self.registry,
        )

        self.llm_calls = Counter(
            "marquee_llm_calls",
            "Chat completions sent, by model, command and outcome (ok; unusable answers: refused, truncated, "
            "malformed, empty; failures: busy, rejected, error).",
            ("model", "command", "outcome"),
            registry=self.registry,
        )
        self.llm_tokens = Counter(
            "marquee_llm_tokens",
            "LLM tokens used, by model, command and kind (prompt, completion).",
            ("model", "command", "kind"),
            registry=self.registry,
        )
        self.llm_latency = Histogram(
            "marquee_llm_seconds",
            "Chat completion latency, by model and command.",
            ("model", "command"),
            buckets=(0.25, 0.5, 1, 2, 4, 8, 15, 30),
            registry=self.registry,
        )
        self.ask_cache = Counter(
            "marquee_ask_cache",
            "/ask answers, by source (hit: no LLM call, miss).",
            ("result",),
            registry=self.registry,
        )
        self.ai_refusals = Counter(
            "marquee_ai_refusals",
            "AI requests refused before any LLM call, by reason (rate_limit, quota, budget).",
            ("reason",),
            registry=self.registry,
        )

        self.embedding_requests = Counter(
            "marquee_embedding_requests",
            "Embeddings API requests, by model, purpose (catalog, query, film) and outcome (ok, busy, error).",
            ("model", "purpose", "outcome"),
            registry=self.registry,
        )
        self.embedding_inputs = Counter(
            "marquee_embedding_inputs",
            "Texts embedded, by model and purpose.",
            ("model", "purpose"),
            registry=self.registry,
        )
        self.embedding_tokens = Counter(
            "marquee_embedding_tokens", "Embedding tokens used, by model.", ("model",), registry=self.registry
        )
        self.vector_search_latency = Histogram(
            "marquee_vector_search_seconds",
            "Nearest-neighbour queries in PostgreSQL, by kind (similar, semantic, rerank).",
            ("kind",),
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry,
        )

        self.stripe_events = Counter(
            "marquee_stripe_events",
            "Stripe webhook deliveries, by outcome (applied, duplicate, ignored, rejected, retry).",
            ("outcome",),
            registry=self.registry,
        )
        self.webhook_latency = Histogram(
            "marquee_stripe_webhook_seconds", "Time to answer a Stripe webhook.", registry=self.registry
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
