"""How a feature reads a state, and how an event folds into one: small closures chosen
once at load, so the per-event loops in plan.py do no dispatching on kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.features.baseline import alpha_for
from shopguard.features.outstanding import item_id
from shopguard.features.spec import FeatureSpec, parse_duration

if TYPE_CHECKING:
    from shopguard.features.plan import Stream

Facts = dict[str, Any]
Reader = Callable[[Any, float], Any]
Fold = Callable[[Any, Facts, float], Any]


def reader_for(spec: FeatureSpec) -> tuple[Reader, Any]:
    """The function reading a feature from its stream's state, and the feature's value for
    a key with no state yet."""
    w, n = spec.window_s, spec.within_s
    kind = spec.kind
    if kind == "count":
        return (lambda s, t: s.count(t - w)), 0
    if kind == "sum":
        return (lambda s, t: s.total(t - w)), 0.0
    if kind == "mean":
        return (lambda s, t: s.mean(t - w)), None
    if kind == "max":
        return (lambda s, t: s.maximum(t - w)), None
    if kind == "distinct":
        return (lambda s, t: s.count(t - w)), 0
    if kind == "first_seen":
        return (lambda s, t: t - s.first), None
    if kind == "since_last":
        return (lambda s, t: t - s.last), None
    if kind == "followed_by":
        return (lambda s, t: t - s.last <= n), False
    if kind == "baseline":
        alpha = stream_alpha(spec)
        warmup = spec.warmup
        return (lambda s, t: s.value(t, w, alpha, warmup)), None
    if kind == "outstanding":
        return (lambda s, t: s.total(t - w)), 0.0
    if kind == "not_followed_by":
        return (lambda s, t: s.timed_out(t, n, w)), 0
    raise AssertionError(kind)


def stream_alpha(spec: FeatureSpec) -> float:
    return alpha_for(spec.window_s, parse_duration(spec.half_life or "1d"))


def folder(stream: Stream, event_type: str, max_events: int, bound: int) -> Fold:
    """The function that folds one event of ``event_type`` into one state of ``stream``,
    specialised once at load so the per-event loop does no dispatching."""
    where, field, retention, new = stream.where, stream.field, stream.retention, stream.new

    if stream.kind == "pending" and event_type in stream.then:

        def settle(state: Any, facts: Facts, t: float) -> Any:
            if state is not None:
                state.settle(t)
            return state

        return settle
    if stream.kind == "pending":

        def pend(state: Any, facts: Facts, t: float) -> Any:
            if where is not None and not where(facts):
                return None
            if state is None:
                state = new()
            state.first_seen(t, retention, max_events)
            return state

        return pend
    if stream.kind == "outstanding":
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
    if stream.kind == "baseline":
        alpha = stream.alpha

        def baseline(state: Any, facts: Facts, t: float) -> Any:
            if where is not None and not where(facts):
                return None
            if state is None:
                state = new()
            state.add(t, retention, alpha)
            return state

        return baseline
    if stream.kind == "distinct":

        def distinct(state: Any, facts: Facts, t: float) -> Any:
            value = facts.get(field or "")
            if value is None or (where is not None and not where(facts)):
                return None
            if state is None:
                state = new()
            state.add(value, t, retention, bound)
            return state

        return distinct

    def events(state: Any, facts: Facts, t: float) -> Any:
        value = 0.0 if field is None else facts.get(field)
        if value is None or (where is not None and not where(facts)):
            return None
        if state is None:
            state = new()
        state.add(t, value, retention, max_events)
        return state

    return events
