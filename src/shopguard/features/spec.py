"""Feature declarations: what to aggregate, keyed by what, over which events and window."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.yamlio import convert_items

KINDS = frozenset(
    {
        "baseline",
        "outstanding",
        "count",
        "sum",
        "mean",
        "max",
        "distinct",
        "first_seen",
        "since_last",
        "ratio",
        "followed_by",
        "not_followed_by",
    }
)
WINDOWED = frozenset(
    {"count", "sum", "mean", "max", "distinct", "not_followed_by", "baseline", "outstanding"}
)
NEEDS_FIELD = frozenset({"sum", "mean", "max"})
MAX_WINDOW_S = 90 * 86400
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")


def parse_duration(text: str | int | float) -> float:
    """``90d``, ``24h``, ``15m``, ``30s``, ``2w`` or plain seconds."""
    if isinstance(text, int | float):
        return float(text)
    match = _DURATION.fullmatch(text.strip())
    if not match:
        raise ConfigError(f"bad duration {text!r}; use e.g. 30s, 15m, 24h, 90d")
    return float(match.group(1)) * _UNITS[match.group(2)]


class FeatureSpec(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """One feature as written in YAML (see docs/features.md)."""

    name: str
    kind: str
    key: list[str] = []
    on: list[str] = []
    window: str | None = None
    field: str | None = None  # sum / mean / max: which numeric fact
    of: str | None = None  # distinct: which fact to count distinct values of
    where: str | None = None  # filter expression over the event's facts
    first: str | None = None  # followed_by / not_followed_by: the "A" event type
    then: str | None = None  # followed_by / not_followed_by: the "B" event type
    within: str | None = None
    match: list[str] = []  # outstanding: [id fact on `first`, id fact on `then`]
    half_life: str | None = None  # baseline: how fast old windows are forgotten
    warmup: int = 3  # baseline: closed windows needed before it has a value
    num: str | None = None  # ratio
    den: str | None = None  # ratio
    description: str = ""

    @property
    def window_s(self) -> float:
        return parse_duration(self.window) if self.window else 0.0

    @property
    def within_s(self) -> float:
        return parse_duration(self.within) if self.within else 0.0

    def validate(self) -> None:
        where = f"feature {self.name}"
        if not _NAME.fullmatch(self.name):
            raise ConfigError("name must be lower_snake_case", where)
        if self.kind not in KINDS:
            raise ConfigError(f"unknown kind {self.kind!r}; one of {sorted(KINDS)}", where)
        if self.kind == "ratio":
            if not (self.num and self.den):
                raise ConfigError("ratio needs num and den", where)
            return
        if not self.key:
            raise ConfigError("needs a key (one entity or a pair)", where)
        if len(self.key) > 2:
            raise ConfigError("key is one entity or a pair", where)
        for event_type in [*self.on, *(t for t in (self.first, self.then) if t)]:
            if event_type not in EVENT_TYPES:
                raise ConfigError(f"unknown event type {event_type!r}", where)
        if self.kind == "outstanding":
            if not (self.first and self.then and self.field and len(self.match) == 2):
                raise ConfigError(
                    "outstanding needs first, then, field and match: [id on first, id on then]",
                    where,
                )
        elif self.kind in ("followed_by", "not_followed_by"):
            if not (self.first and self.then and self.within):
                raise ConfigError(f"{self.kind} needs first, then and within", where)
        elif not self.on:
            raise ConfigError("needs `on`: the event types it aggregates", where)
        if self.kind in WINDOWED:
            if not self.window:
                raise ConfigError("needs a window", where)
            if not 0 < self.window_s <= MAX_WINDOW_S:
                raise ConfigError("window must be between 1s and 90d", where)
        if self.kind in NEEDS_FIELD and not self.field:
            raise ConfigError(f"{self.kind} needs `field`", where)
        if self.kind == "baseline" and not self.half_life:
            raise ConfigError("baseline needs a half_life, e.g. 24h", where)
        if self.kind == "distinct" and not self.of:
            raise ConfigError("distinct needs `of`", where)


def load_feature_specs(doc: Any, source: str = "features") -> list[FeatureSpec]:
    """Validate the ``features:`` list of a YAML document."""
    specs = convert_items(doc, "features", FeatureSpec, "feature", "name", source)
    for spec in specs:
        spec.validate()
    return specs
