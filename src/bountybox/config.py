"""Settings, read from the environment (prefix BOUNTYBOX_) once and passed into create_app."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BOUNTYBOX_", extra="ignore")

    data_dir: Path = Path(".bountybox")
    database_url: str | None = None
    # Database connections each process keeps open at most; more concurrent requests wait. Each
    # costs memory on both sides; 16 keep two cores busy (docs/benchmarks.md, fifth round).
    database_pool_size: int = Field(default=16, ge=1, le=1000)
    redis_url: str | None = None
    secret_key: str | None = None

    rate_limit_reads: str = "600 per 1 minute"
    rate_limit_report_reads: str = "300 per 1 minute"
    rate_limit_scope_reads: str = "50 per 1 minute"
    rate_limit_writes: str = "25 per 20 seconds"
    rate_limits_enabled: bool = True
    # Prefix of the rate-limit keys, so several installations can share one Redis.
    rate_limit_namespace: str = "bountybox"
    # Token identifiers (comma-separated) that are counted but never refused: benchmark tokens.
    rate_limit_exempt_tokens: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # Encoded documents of `GET /v1/reports/{id}` kept per token and URL while the data is
    # unchanged (core/cache.py): the memory they may take, and how long one is served at most.
    # 0 turns the cache off; sandbox mode never uses it.
    response_cache_bytes: int = Field(default=8 * 1024 * 1024, ge=0)
    response_cache_seconds: float = Field(default=60, ge=0)
    # PostgreSQL: each server process listens for the data version (db/feed.py), so reads while
    # nothing changed skip the token's statement. Off behind a pooler in transaction mode, which
    # cannot hold a LISTEN.
    version_feed: bool = True

    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    max_attachment_bytes: int = Field(default=250 * 1000 * 1000, ge=1024)
    trusted_proxies: list[str] = Field(default_factory=list)
    # How often each server process looks for reports due for automatic disclosure (0 turns it off).
    timer_interval_seconds: float = Field(default=60, ge=0)
    log_level: str = "info"
    # Absolute base of links in payloads rendered outside a request (webhook attachment URLs).
    public_url: str = "http://127.0.0.1:8000"
    # Run the webhook delivery loop inside `bountybox serve` (off when `bountybox worker` runs it).
    webhooks_worker: bool = True
    # Sandboxes deliver to loopback and private addresses; production refuses them (SSRF).
    webhooks_allow_private: bool = False
    webhooks_timeout_seconds: float = Field(default=10, gt=0, le=300)
    webhooks_poll_seconds: float = Field(default=1, gt=0)
    webhooks_backoff_seconds: float = Field(default=10, ge=0)
    webhooks_backoff_max_seconds: float = Field(default=3600, ge=0)
    # A delivery that still fails when older than this is given up (it can be redelivered).
    webhooks_max_age_seconds: float = Field(default=3 * 24 * 3600, ge=0)
    # Consecutive failed attempts after which a webhook is deactivated.
    webhooks_disable_after_failures: int = Field(default=100, ge=1)
    webhooks_response_limit_bytes: int = Field(default=16 * 1024, ge=0)
    # Webhooks one worker process delivers to at the same time.
    webhooks_concurrency: int = Field(default=16, ge=1)
    # Finished deliveries (and their attempts) are deleted after this many days.
    webhooks_retention_days: float = Field(default=30, gt=0)
    # smtp://user:pass@host:25, smtps://host:465 or smtp://host:587?starttls=true; unset keeps
    # mails in the outbox (`bountybox mail list`).
    smtp_url: str | None = None
    mail_from: str = "bountybox <no-reply@bountybox.local>"

    # Sandbox mode (docs/sandbox.md): the /_sandbox/ control plane, faults and the inspector.
    sandbox: bool = False
    # The control plane's bearer token; generated (and printed) at start when unset.
    sandbox_token: str | None = None
    # The seed pack (a shipped pack's name or a pack file) loaded at start and by a bare reset.
    sandbox_seed: str | None = None
    # Requests the inspector keeps.
    sandbox_requests_kept: int = Field(default=500, ge=1, le=100_000)

    @field_validator("rate_limit_exempt_tokens", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @model_validator(mode="after")
    def _sandbox_defaults(self) -> Settings:
        # Sandboxes deliver webhooks to receivers on the same machine unless told otherwise.
        if self.sandbox and "webhooks_allow_private" not in self.model_fields_set:
            self.webhooks_allow_private = True
        return self

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        # A sandbox empties its database on every reset: never the installation's own file.
        name = "sandbox.db" if self.sandbox else "bountybox.db"
        return f"sqlite+aiosqlite:///{(self.data_dir / name).resolve()}"

    def resolved_secret_key(self) -> str:
        """The installation secret; kept in the data directory when not configured."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_hex(32)
        path.write_text(key)
        path.chmod(0o600)
        return key
