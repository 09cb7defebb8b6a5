"""The kinds kept in one key's event series (features/series.py): count, sum, mean, max,
first_seen, since_last and followed_by. Features of these kinds on one key, event types
and filter share one series; each reads it its own way."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.desensitize.schema import BOOL, NUM
from shopguard.errors import ConfigError
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind
from shopguard.features.series import EventSeries

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec

_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class SeriesKind(Kind):
    """``reader`` is the read expression with ``{s}`` (the state), ``{cutoff}`` (the
    window's start: ``t - window``) and ``{within}``; ``value``: it needs ``field``."""

    def __init__(
        self,
        name: str,
        reader: str,
        blank: Any = None,
        windowed: bool = False,
        value: bool = False,
        with_sum: bool = False,
        with_max: bool = False,
        sequence: bool = False,
        type: str = NUM,
    ) -> None:
        super().__init__(name, "events", blank, windowed, type)
        self.reader = reader
        self.value = value
        self.with_sum = with_sum
        self.with_max = with_max
        self.sequence = sequence  # followed_by: fed by `first`, read on `then`

    def check_sources(self, spec: FeatureSpec, where: str) -> None:
        if not self.sequence:
            super().check_sources(spec, where)
        elif not (spec.first and spec.then and spec.within):
            raise ConfigError(f"{self.name} needs first, then and within", where)

    def check(self, spec: FeatureSpec, where: str) -> None:
        if self.value and not spec.field:
            raise ConfigError(f"{self.name} needs `field`", where)

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        key = tuple(spec.key)
        if self.sequence:
            return plan.stream("events", self, key, frozenset({spec.first or ""}), spec.where, filt)
        value = spec.field if self.value else None
        compute = None
        if value is not None and plan.facts.get(value) != NUM:
            if _NAME.fullmatch(value):
                raise ConfigError(f"field {value!r} is not a numeric fact", where)
            # an expression of the event's facts, e.g. "discount / amount"
            from shopguard.rules.language import compile_expression  # rules import features

            compute = compile_expression(value, plan.facts, where, want=NUM).fn
        stream = plan.stream("events", self, key, frozenset(spec.on), spec.where, filt, value)
        stream.compute = compute
        if self.windowed:
            stream.retention = max(stream.retention, spec.window_s)
        stream.with_sum |= self.with_sum
        stream.with_max |= self.with_max
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        cutoff = f"t - {spec.window_s!r}"
        return self.reader.format(s=state, cutoff=cutoff, within=repr(spec.within_s))

    def factory(self, stream: Stream) -> Callable[[], Any]:
        retention, with_sum, with_max = stream.retention, stream.with_sum, stream.with_max

        def new() -> EventSeries:
            return EventSeries(retention, with_sum, with_max)

        return new

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, field, retention = stream.where, stream.field, stream.retention
        new = self.factory(stream)
        compute = stream.compute
        if compute is not None:

            def computed(state: Any, facts: Facts, t: float) -> Any:
                if where is not None and not where(facts):
                    return None
                try:
                    value = compute(facts)
                except (TypeError, ZeroDivisionError):  # a fact missing, or a zero divisor
                    return None
                if value is None:
                    return None
                if state is None:
                    state = new()
                state.add(t, float(value), retention, max_events)
                return state

            return computed

        def events(state: Any, facts: Facts, t: float) -> Any:
            value = 0.0 if field is None else facts.get(field)
            if value is None or (where is not None and not where(facts)):
                return None
            if state is None:
                state = new()
            state.add(t, value, retention, max_events)
            return state

        return events


KINDS = (
    # a count is written out (a bisect on the times); the others call the series' methods
    SeriesKind(
        "count", "len({s}.times) - bisect_right({s}.times, {cutoff})", blank=0, windowed=True
    ),
    SeriesKind("sum", "{s}.total({cutoff})", 0.0, windowed=True, value=True, with_sum=True),
    SeriesKind("mean", "{s}.mean({cutoff})", None, windowed=True, value=True, with_sum=True),
    SeriesKind("max", "{s}.maximum({cutoff})", None, windowed=True, value=True, with_max=True),
    SeriesKind("first_seen", "t - {s}.first"),
    SeriesKind("since_last", "t - {s}.last"),
    SeriesKind("followed_by", "t - {s}.last <= {within}", False, sequence=True, type=BOOL),
)
