"""``baseline``: a key's usual count per window, an exponentially weighted average of its
past windows (features/baseline.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError
from shopguard.features.baseline import RateBaseline, alpha_for
from shopguard.features.kinds.base import Facts, Filter, Fold, Kind

if TYPE_CHECKING:
    from shopguard.features.plan import FeaturePlan, Stream
    from shopguard.features.spec import FeatureSpec


def stream_alpha(spec: FeatureSpec) -> float:
    """The weight of each closed window, from the spec's half-life."""
    return alpha_for(spec.window_s, spec.half_life_s)


class BaselineKind(Kind):
    def __init__(self) -> None:
        super().__init__("baseline", "baseline", windowed=True)

    def check(self, spec: FeatureSpec, where: str) -> None:
        if not spec.half_life:
            raise ConfigError("baseline needs a half_life, e.g. 24h", where)

    def bind(self, spec: FeatureSpec, plan: FeaturePlan, filt: Filter | None, where: str) -> Stream:
        key, on, extra = tuple(spec.key), frozenset(spec.on), f"{spec.window_s}/{spec.half_life}"
        stream = plan.stream("baseline", self, key, on, spec.where, filt, extra=extra)
        stream.retention = spec.window_s  # the bucket length
        stream.alpha = stream_alpha(spec)
        return stream

    def read(self, spec: FeatureSpec, state: str) -> str:
        w, alpha = spec.window_s, stream_alpha(spec)
        return f"{state}.value(t, {w!r}, {alpha!r}, {spec.warmup!r})"

    def factory(self, stream: Stream) -> Callable[[], Any]:
        return RateBaseline

    def fold(self, stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
        where, retention, alpha = stream.where, stream.retention, stream.alpha
        new = self.factory(stream)

        def baseline(state: Any, facts: Facts, t: float) -> Any:
            if where is not None and not where(facts):
                return None
            if state is None:
                state = new()
            state.add(t, retention, alpha)
            return state

        return baseline


KINDS = (BaselineKind(),)
