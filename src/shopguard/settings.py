"""Settings, read in one place: environment, then a file, then the shipped defaults."""

from __future__ import annotations

import os
import secrets
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import msgspec
import yaml

from shopguard.errors import ConfigError
from shopguard.features.spec import parse_duration

ENV_PREFIX = "SHOPGUARD_"
# Read as durations (30s, 15m, 24h, 7d): a typo fails at load, not at first use.
_DURATIONS = (
    "dedupe_window",
    "max_event_ahead",
    "max_event_behind",
    "retention",
    "retention_quiet",
    "compact_every",
    "console_session",
    "webhooks_timeout",
    "webhooks_retry_window",
    "webhooks_rotation_overlap",
    "webhooks_poll",
    "redis_timeout",
    "state_retry_every",
    "postgres_timeout",
    "spool_drain_every",
    "claim_wait",
    "propagate_every",
)


class Settings(msgspec.Struct, forbid_unknown_fields=True):
    pack: str = "starter"
    data_dir: str = "./shopguard-data"
    state_store: str = "memory"
    decision_log: str = "sqlite"
    durability: str = "normal"
    journal_busy_timeout: str = "0.25s"
    journal_probe_every: str = "1s"
    journal_min_free_mb: int = 4
    keys: dict[str, str] = {}
    active_key: str = ""
    default_region: str = "CN"
    phone_block_digits: int = 2
    utc_offset_hours: float = 0
    dedupe_window: str = "7d"
    dedupe_max_ids: int = 1_000_000
    event_time: Literal["auto", "live", "replay"] = "auto"
    max_event_ahead: str = "5m"
    max_event_behind: str = "1h"
    snapshot_every: int = 500_000
    max_events_per_key: int = 10_000
    distinct_exact_bound: int = 1_000
    gc_freeze_every: int = 10_000
    explain: bool = False
    http_host: str = "127.0.0.1"
    http_port: int = 8080
    max_body_bytes: int = 1_048_576
    max_batch: int = 1000
    max_inflight: int = 512
    max_inflight_public: int = 32
    max_connections: int = 4096
    header_timeout: str = "10s"
    body_timeout: str = "20s"
    login_failures: int = 5
    login_failures_per_address: int = 20
    login_lockout: str = "30s"
    login_lockout_max: str = "15m"
    default_tenant: str = "default"
    model: str = "none"
    retention: str = "180d"
    retention_quiet: str = "30d"
    compact_every: str = "1h"
    console_session: str = "12h"
    webhooks_deliver: bool = True
    webhooks_allow_private: bool = False
    webhooks_allow_http: bool = False
    webhooks_timeout: str = "10s"
    webhooks_retry_schedule: list[str] = msgspec.field(
        default_factory=lambda: ["5s", "5m", "30m", "2h", "5h", "10h"]
    )
    webhooks_retry_window: str = "3d"
    webhooks_retry_jitter: float = 0.2
    webhooks_rotation_overlap: str = "24h"
    webhooks_poll: str = "1s"
    webhooks_concurrency: int = 8
    # -- scale out (docs/cluster.md) --
    redis_url: str = "redis://127.0.0.1:6379/0"
    redis_cluster: bool = False
    redis_timeout: str = "0.5s"
    redis_prefix: str = "sg"
    state_unavailable: Literal["open", "closed"] = "open"
    state_retry_every: str = "1s"
    postgres_dsn: str = "postgresql://127.0.0.1:5432/test"
    postgres_schema: str = "shopguard"
    postgres_timeout: str = "2s"
    journal_partition: Literal["day", "week", "month"] = "day"
    writer: str = ""
    spool: bool = True
    spool_drain_every: str = "1s"
    claim_wait: str = "2s"
    propagate_every: str = "1s"
    workers: int = 1
    nats_url: str = "nats://127.0.0.1:4222"
    nats_stream: str = "SHOPGUARD_EVENTS"
    nats_subjects: list[str] = msgspec.field(default_factory=lambda: ["shopguard.events.>"])
    nats_durable: str = "shopguard"
    nats_decisions: str = "shopguard.decisions"
    nats_alerts: str = "shopguard.alerts"
    nats_batch: int = 256

    def __post_init__(self) -> None:
        for name in _DURATIONS:
            try:
                parse_duration(getattr(self, name))
            except ConfigError as exc:
                raise ValueError(f"{name}: {exc}") from None

        for step in self.webhooks_retry_schedule:
            try:
                parse_duration(step)
            except ConfigError as exc:
                raise ValueError(f"webhooks_retry_schedule: {exc}") from None
        if not self.webhooks_retry_schedule:
            raise ValueError("webhooks_retry_schedule: at least one delay")
        if not 0 <= self.webhooks_retry_jitter <= 1:
            raise ValueError("webhooks_retry_jitter: 0 to 1")
        if self.webhooks_concurrency < 1:
            raise ValueError("webhooks_concurrency: at least 1")
        if self.workers < 1:
            raise ValueError("workers: at least 1")
        if not 1 <= self.nats_batch <= 10_000:
            raise ValueError("nats_batch: 1 to 10000")
        if not 1 <= self.phone_block_digits <= 6:
            raise ValueError("phone_block_digits: 1 to 6 digits")

    def serving(self) -> Settings:
        """These settings for a live server: ``event_time: auto`` becomes ``live``."""
        if self.event_time != "auto":
            return self
        return msgspec.structs.replace(self, event_time="live")

    @property
    def event_skew(self) -> tuple[float, float]:
        """How far (seconds) a live event's time may lie ahead of and behind the clock."""
        return parse_duration(self.max_event_ahead), parse_duration(self.max_event_behind)

    @property
    def journal_path(self) -> Path:
        """The SQLite journal (decision log) of this data directory."""
        return Path(self.data_dir) / "decisions.db"

    @property
    def access_path(self) -> Path:
        """The API keys and console users of this data directory."""
        return Path(self.data_dir) / "access.db"

    @property
    def admin_key_path(self) -> Path:
        """The admin key generated at first start (mode 0600), for its operator to read."""
        return Path(self.data_dir) / "admin-key"

    @property
    def models_path(self) -> Path:
        """Registered models (model/registry.py)."""
        return Path(self.data_dir) / "models"

    @property
    def rulesets_path(self) -> Path:
        """Ruleset versions and their audit trail."""
        return Path(self.data_dir) / "rulesets.db"

    def resolved_keys(self) -> tuple[dict[str, str], str]:
        """The key ring; generates and keeps a random key on first use of a data_dir."""
        if self.keys:
            return self.keys, self.active_key or next(iter(self.keys))
        if self.decision_log == "memory":
            return {"k1": secrets.token_urlsafe(32)}, "k1"
        path = Path(self.data_dir) / "keys.yaml"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                yaml.safe_dump({"active_key": "k1", "keys": {"k1": secrets.token_urlsafe(32)}}, out)
        doc = yaml.safe_load(path.read_text())
        return dict(doc["keys"]), str(doc["active_key"])


def _defaults() -> dict[str, Any]:
    text = resources.files("shopguard").joinpath("defaults/settings.yaml").read_text()
    return dict(yaml.safe_load(text))


def _from_env(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for field in msgspec.structs.fields(Settings):
        raw = env.get(ENV_PREFIX + field.name.upper())
        if raw is None:
            continue
        if field.name == "keys":
            pairs = [p.split(":", 1) for p in raw.split(",") if p.strip()]
            if any(len(p) != 2 for p in pairs):
                raise ConfigError(f"{ENV_PREFIX}KEYS must look like 'k2:secret,k1:old'")
            out["keys"] = {k.strip(): v.strip() for k, v in pairs}
            out.setdefault("active_key", pairs[0][0].strip())
        else:
            out[field.name] = yaml.safe_load(raw)  # "8" -> 8, "true" -> True
    return out


def load_settings(
    path: str | Path | None = None,
    overrides: dict[str, Any] | None = None,
    env: dict[str, str] | None = None,
) -> Settings:
    """Defaults, overlaid by the file (``path`` or $SHOPGUARD_CONFIG), then the environment,
    then ``overrides`` (what a caller passes in code)."""
    env = dict(os.environ) if env is None else env
    merged = _defaults()
    path = path or env.get(ENV_PREFIX + "CONFIG")
    if path:
        try:
            doc = yaml.safe_load(Path(path).read_text()) or {}
        except OSError as exc:
            raise ConfigError(f"cannot read settings file: {exc}") from None
        if not isinstance(doc, dict):
            raise ConfigError("settings file must be a mapping", str(path))
        merged.update(doc)
    merged.update(_from_env(env))
    merged.update(overrides or {})
    try:
        return msgspec.convert(merged, Settings)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"settings: {exc}") from None
