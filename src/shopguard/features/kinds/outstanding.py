"""``outstanding``: amounts opened by ``first`` events and not yet settled by a matching
``then`` event (features/outstanding.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind
from shopguard.features.outstanding import Outstanding, item_id

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


class OutstandingKind(Kind):
    def __init__(self) -> None:
        super().__init__("outstanding", "outstanding", blank=0.0, windowed=True)

    def check_sources(self, spec: FeatureSpec, where: str) -> None:
        if not (spec.first and spec.then and spec.field and len(spec.match) == 2):
            raise ConfigError(
                "outstanding needs first, then, field and match: [id on first, id on then]",
                where,
            )

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        for fact in (spec.field, *spec.match):
            if fact not in plan.facts:
                raise ConfigError(f"unknown fact {fact!r}", where)
        stream = plan.stream(
            "outstanding",
            self,
            tuple(spec.key),
            frozenset({spec.first or ""}),
            spec.where,
            filt,
            spec.field,
            extra="/".join(spec.match),
        )
        stream.then = frozenset(spec.then_types)
        stream.match = (spec.match[0], spec.match[1])
        stream.retention = max(stream.retention, spec.window_s)
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        return f"{state}.total(t - {spec.window_s!r})"

    def factory(self, stream: Stream) -> Callable[[], Any]:
        return Outstanding

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, field, retention = stream.where, stream.field, stream.retention
        new = self.factory(stream)
        opens, settles = stream.match
        if event_type in stream.then:

            def settle(state: Any, facts: Facts, t: float) -> Any:
                item = item_id(facts, settles)
                if facts.get("success") is False:  # a failed payment settles nothing
                    return None
                if state is None or item is None or not state.settle(item):
                    return None
                return state

            return settle

        def owe(state: Any, facts: Facts, t: float) -> Any:
            item, amount = item_id(facts, opens), facts.get(field or "")
            if item is None or amount is None or (where is not None and not where(facts)):
                return None
            if state is None:
                state = new()
            state.open(item, t, amount, retention, max_events)
            return state

        return owe


KINDS = (OutstandingKind(),)
