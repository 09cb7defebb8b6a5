"""Feature declarations: what to aggregate, keyed by what, over which events and window."""

from __future__ import annotations

import re
from typing import Any

import msgspec

from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_TYPES
from shopguard.features.kinds import KINDS as REGISTRY
from shopguard.yamlio import convert_items

KINDS = frozenset(REGISTRY)
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
    then: str | list[str] | None = None  # followed_by / not_followed_by: the "B" type(s)
    within: str | None = None
    match: list[str] = []  # outstanding: [id fact on `first`, id fact on `then`]
    half_life: str | None = None  # baseline: how fast old windows are forgotten
    warmup: int = 3  # baseline: closed windows needed before it has a value
    gap: str | None = None  # silence_before / run_age: the silence that ends a run
    num: str | None = None  # ratio
    den: str | None = None  # ratio
    description: str = ""

    @property
    def window_s(self) -> float:
        return parse_duration(self.window) if self.window else 0.0

    @property
    def within_s(self) -> float:
        return parse_duration(self.within) if self.within else 0.0

    @property
    def gap_s(self) -> float:
        return parse_duration(self.gap) if self.gap else 0.0

    @property
    def then_types(self) -> list[str]:
        """The event types of ``then``: one, or a list (any of them)."""
        if self.then is None:
            return []
        return [self.then] if isinstance(self.then, str) else list(self.then)

    @property
    def half_life_s(self) -> float:
        return parse_duration(self.half_life or "1d")

    def validate(self) -> None:
        where = f"feature {self.name}"
        if not _NAME.fullmatch(self.name):
            raise ConfigError("name must be lower_snake_case", where)
        kind = REGISTRY.get(self.kind)
        if kind is None:
            raise ConfigError(f"unknown kind {self.kind!r}; one of {sorted(KINDS)}", where)
        if kind.keyed:
            if not self.key:
                raise ConfigError("needs a key (one entity or a pair)", where)
            if len(self.key) > 2:
                raise ConfigError("key is one entity or a pair", where)
            for event_type in [*self.on, *([self.first] if self.first else []), *self.then_types]:
                if event_type not in EVENT_TYPES:
                    raise ConfigError(f"unknown event type {event_type!r}", where)
        kind.validate(self, where)


def load_feature_specs(doc: Any, source: str = "features") -> list[FeatureSpec]:
    """Validate the ``features:`` list of a YAML document."""
    specs = convert_items(doc, "features", FeatureSpec, "feature", "name", source)
    for spec in specs:
        spec.validate()
    return specs
