"""``distinct``: distinct values of a fact per key in a window (features/distinct.py: exact
up to a bound, then a sliding HyperLogLog)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError
from shopguard.features.distinct import DistinctSeries
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


class DistinctKind(Kind):
    def __init__(self) -> None:
        super().__init__("distinct", "distinct", blank=0, windowed=True)

    def check(self, spec: FeatureSpec, where: str) -> None:
        if not spec.of:
            raise ConfigError("distinct needs `of`", where)

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        if spec.of not in plan.facts:
            raise ConfigError(f"unknown fact {spec.of!r} to count", where)
        key, on = tuple(spec.key), frozenset(spec.on)
        stream = plan.stream("distinct", self, key, on, spec.where, filt, spec.of)
        stream.retention = max(stream.retention, spec.window_s)
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        return f"{state}.count(t - {spec.window_s!r})"

    def factory(self, stream: Stream) -> Callable[[], Any]:
        return DistinctSeries

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, field, retention = stream.where, stream.field, stream.retention
        new = self.factory(stream)

        def distinct(state: Any, facts: Facts, t: float) -> Any:
            value = facts.get(field or "")
            if value is None or (where is not None and not where(facts)):
                return None
            if state is None:
                state = new()
            state.add(value, t, retention, bound)
            return state

        return distinct


KINDS = (DistinctKind(),)
