"""How a feature reads a state (an expression the generated reads are made of) and how
an event folds into one (small closures chosen once at load), so the per-event code does
no dispatching on kinds."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.features.baseline import alpha_for
from shopguard.features.outstanding import item_id
from shopguard.features.spec import FeatureSpec, parse_duration

if TYPE_CHECKING:
    from shopguard.features.plan import Stream

Facts = dict[str, Any]
Fold = Callable[[Any, Facts, float], Any]


# The value of a feature for a key with no state yet, by kind.
BLANK: dict[str, Any] = {
    "count": 0,
    "sum": 0.0,
    "mean": None,
    "max": None,
    "distinct": 0,
    "first_seen": None,
    "since_last": None,
    "followed_by": False,
    "baseline": None,
    "outstanding": 0.0,
    "not_followed_by": 0,
}


def read_expression(spec: FeatureSpec, state: str) -> str:
    """The Python expression reading ``spec`` from the non-empty state named ``state`` at
    time ``t``: the generated reads (reading.py) are made of these. A count is written
    out (a bisect on the times); the other kinds call their state's method."""
    w, n, kind = spec.window_s, spec.within_s, spec.kind
    cutoff = f"t - {w!r}"
    if kind == "count":
        return f"len({state}.times) - bisect_right({state}.times, {cutoff})"
    if kind in ("sum", "outstanding"):
        return f"{state}.total({cutoff})"
    if kind == "mean":
        return f"{state}.mean({cutoff})"
    if kind == "max":
        return f"{state}.maximum({cutoff})"
    if kind == "distinct":
        return f"{state}.count({cutoff})"
    if kind == "first_seen":
        return f"t - {state}.first"
    if kind == "since_last":
        return f"t - {state}.last"
    if kind == "followed_by":
        return f"t - {state}.last <= {n!r}"
    if kind == "baseline":
        return f"{state}.value(t, {w!r}, {stream_alpha(spec)!r}, {spec.warmup!r})"
    if kind == "not_followed_by":
        return f"{state}.timed_out(t, {n!r}, {w!r})"
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
