"""Runs of activity: a key's events where no two in a row are more than ``gap`` apart.

``silence_before`` is the quiet time before the key's current run (a dormant account
waking up: 120 days of silence, then a login and an order minutes before a sale);
``run_age`` the time since the current run began (a campaign's sale session opened with
its first order: an order 0.3 s after it is a scalper's). Three floats per key.

As of before the event: when the event itself is more than ``gap`` after the key's last
one, it starts a new run, so it reads the silence it ends and a run age of 0.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


class ActivityRun:
    __slots__ = ("last", "silence", "start")

    def __init__(self) -> None:
        self.last = math.nan  # NaN until the first event (unboxed floats, as EventSeries)
        self.start = math.nan  # when the current run began
        self.silence = math.nan  # the quiet before it; NaN in the key's first run

    def add(self, t: float, gap: float) -> None:
        last = self.last
        if math.isnan(last):
            self.start = t
        elif t < last:  # late events count at the newest time: runs never rewind
            t = last
        elif t - last > gap:
            self.silence, self.start = t - last, t
        self.last = t

    def silence_at(self, t: float, gap: float) -> float | None:
        if t - self.last > gap:
            return t - self.last
        return None if math.isnan(self.silence) else self.silence

    def age_at(self, t: float, gap: float) -> float:
        return 0.0 if t - self.last > gap else max(t - self.start, 0.0)


class RunKind(Kind):
    def __init__(self, name: str, method: str, blank: Any) -> None:
        super().__init__(name, "runs", blank)
        self.method = method

    def check(self, spec: FeatureSpec, where: str) -> None:
        if not spec.gap:
            raise ConfigError(f"{self.name} needs a gap, e.g. 3d: the silence ending a run", where)

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        key, on, gap = tuple(spec.key), frozenset(spec.on), spec.gap_s
        stream = plan.stream("runs", self, key, on, spec.where, filt, extra=repr(gap))
        stream.retention = gap
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        return f"{state}.{self.method}(t, {spec.gap_s!r})"

    def factory(self, stream: Stream) -> Callable[[], Any]:
        return ActivityRun

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, gap = stream.where, stream.retention
        new = self.factory(stream)

        def run(state: Any, facts: Facts, t: float) -> Any:
            if where is not None and not where(facts):
                return None
            if state is None:
                state = new()
            state.add(t, gap)
            return state

        return run


KINDS = (
    RunKind("silence_before", "silence_at", None),  # never seen: no silence, a newcomer
    RunKind("run_age", "age_at", 0.0),  # never seen: this event opens its first run
)
