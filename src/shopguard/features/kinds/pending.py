"""``not_followed_by``: ``first`` events no ``then`` event followed within ``within``
(features/sequence.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind
from shopguard.features.sequence import PendingSeries

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


class NotFollowedBy(Kind):
    def __init__(self) -> None:
        super().__init__("not_followed_by", "pending", blank=0, windowed=True)

    def check_sources(self, spec: FeatureSpec, where: str) -> None:
        if not (spec.first and spec.then and spec.within):
            raise ConfigError(f"{self.name} needs first, then and within", where)

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        on, then = frozenset({spec.first or ""}), spec.then_types
        settled_by = ",".join(sorted(then))  # one stream per set of settling types
        stream = plan.stream("pending", self, tuple(spec.key), on, spec.where, filt, settled_by)
        stream.then = frozenset(then)
        stream.retention = max(stream.retention, spec.window_s)
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        return f"{state}.timed_out(t, {spec.within_s!r}, {spec.window_s!r})"

    def factory(self, stream: Stream) -> Callable[[], Any]:
        return PendingSeries

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, retention = stream.where, stream.retention
        new = self.factory(stream)
        if event_type in stream.then:

            def settle(state: Any, facts: Facts, t: float) -> Any:
                if state is not None:
                    state.settle(t)
                return state

            return settle

        def pend(state: Any, facts: Facts, t: float) -> Any:
            if where is not None and not where(facts):
                return None
            if state is None:
                state = new()
            state.first_seen(t, retention, max_events)
            return state

        return pend


KINDS = (NotFollowedBy(),)
