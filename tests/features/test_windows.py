"""Window maths checked against a from-scratch recomputation over the raw event list."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from shopguard.features.baseline import RateBaseline, alpha_for
from shopguard.features.distinct import DistinctSeries, SlidingHLL
from shopguard.features.outstanding import Outstanding
from shopguard.features.sequence import PendingSeries
from shopguard.features.series import EventSeries

# Event times as sorted offsets (ties allowed), values as money amounts.
times = st.lists(st.integers(0, 5_000), min_size=1, max_size=120).map(sorted)
windows = st.sampled_from([1, 7, 60, 300, 3_600])


@given(times, st.data(), windows, windows)
def test_event_series_matches_recomputation(
    ts: list[int], data: st.DataObject, retention: int, window: int
) -> None:
    window = min(window, retention)
    values = data.draw(
        st.lists(st.floats(0, 10_000, allow_nan=False), min_size=len(ts), max_size=len(ts))
    )
    series = EventSeries(retention, with_sum=True, with_max=True)
    seen: list[tuple[int, float]] = []
    for t, v in zip(ts, values, strict=True):
        # Before applying: the feature is computed over what came earlier.
        inside = [(e, x) for e, x in seen if t - window < e <= t]
        if series.times is not None:
            assert series.count(t - window) == len(inside)
            assert math.isclose(
                series.total(t - window), sum(x for _, x in inside), rel_tol=1e-9, abs_tol=1e-6
            )
            want_max = max((x for _, x in inside), default=None)
            assert series.maximum(t - window) == want_max
            mean = series.mean(t - window)
            assert (mean is None) == (not inside)
        if seen:
            assert (series.first, series.last) == (seen[0][0], seen[-1][0])
        else:  # NaN until the first event
            assert math.isnan(series.first) and math.isnan(series.last)
        series.add(t, v, retention, max_events=10_000)
        seen.append((t, v))


@given(times, st.data(), windows)
def test_distinct_exact_mode_matches_recomputation(
    ts: list[int], data: st.DataObject, window: int
) -> None:
    values = data.draw(st.lists(st.integers(0, 15), min_size=len(ts), max_size=len(ts)))
    series = DistinctSeries()
    seen: list[tuple[int, int]] = []
    for t, v in zip(ts, values, strict=True):
        want = len({x for e, x in seen if t - window < e <= t})
        assert series.count(t - window) == want
        series.add(v, t, window, bound=10_000)
        seen.append((t, v))


@given(times, st.data(), st.integers(1, 600), st.integers(600, 5_000))
def test_pending_sequence_matches_recomputation(
    ts: list[int], data: st.DataObject, within: int, window: int
) -> None:
    kinds = data.draw(st.lists(st.sampled_from("AB"), min_size=len(ts), max_size=len(ts)))
    series = PendingSeries()
    history: list[tuple[int, str]] = []
    for t, kind in zip(ts, kinds, strict=True):
        # An A is timed out if no B came at or after it and it is older than `within`.
        timed_out = 0
        for i, (e, k) in enumerate(history):
            settled = any(k2 == "B" for _, k2 in history[i + 1 :]) if k == "A" else True
            if k == "A" and not settled and e <= t - within and e > t - window:
                timed_out += 1
        assert series.timed_out(t, within, window) == timed_out
        if kind == "A":
            series.first_seen(t, window, max_events=10_000)
        else:
            series.settle(t)
        history.append((t, kind))


def test_late_events_count_at_the_newest_time() -> None:
    series = EventSeries(3600, with_sum=True, with_max=False)
    series.add(1000, 5, 3600, 10_000)
    series.add(900, 7, 3600, 10_000)  # late: clamped to 1000
    assert series.last == 1000 and series.count(999) == 2


def test_series_memory_is_bounded_per_key() -> None:
    series = EventSeries(86400, with_sum=False, with_max=False)
    for t in range(5000):
        series.add(t, 0, 86400, max_events=100)
    assert series.times is not None and len(series.times) == 100


@settings(max_examples=10, deadline=None)
@given(st.integers(2_000, 40_000), st.integers(0, 1000))
def test_sketch_switch_keeps_error_within_stated_bound(n: int, salt: int) -> None:
    series = DistinctSeries()
    for i in range(n):
        series.add(f"{salt}-{i}", float(i), 1e9, bound=1_000)
    assert series.sketch is not None
    # 6.5% standard error: 4 sigma is a bound a correct sketch essentially never breaks.
    assert abs(series.count(-1) - n) <= 0.26 * n


def test_sliding_sketch_forgets_values_outside_the_window() -> None:
    sketch = SlidingHLL()
    for i in range(5_000):
        sketch.add(f"old-{i}", 0.0, 10_000)
    for i in range(500):
        sketch.add(f"new-{i}", 5_000.0, 10_000)
    assert abs(sketch.estimate(1_000.0) - 500) < 100
    assert abs(sketch.estimate(-1.0) - 5_500) < 1_000


@given(
    times, st.sampled_from([60, 600, 3600]), st.sampled_from([600, 7200, 86400]), st.integers(1, 4)
)
def test_rate_baseline_matches_recomputation(
    ts: list[int], window: int, half_life: int, warmup: int
) -> None:
    alpha = alpha_for(window, half_life)
    baseline = RateBaseline()
    for n, t in enumerate(ts):
        # From scratch: counts of every closed bucket from the first event's to t's.
        first, now = ts[0] // window, t // window
        counts = [sum(1 for e in ts[:n] if e // window == b) for b in range(first, now)]
        want = None
        if n and len(counts) >= warmup:
            ewma = float(counts[0])
            for c in counts[1:]:
                ewma = alpha * c + (1 - alpha) * ewma
            want = ewma
        got = baseline.value(t, window, alpha, warmup)
        if want is None:
            assert got is None
        else:
            assert got is not None and math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-9)
        baseline.add(t, window, alpha)


@given(
    st.lists(st.tuples(st.sampled_from("os"), st.integers(0, 6), st.integers(1, 50)), max_size=60)
)
def test_outstanding_matches_recomputation(ops: list[tuple[str, int, int]]) -> None:
    state = Outstanding()
    open_items: dict[str, int] = {}
    for t, (op, item, amount) in enumerate(ops):
        assert state.total(-1.0) == sum(open_items.values())
        if op == "o":
            state.open(f"i{item}", float(t), float(amount), 1e9, 10_000)
            open_items[f"i{item}"] = amount
        else:
            assert state.settle(f"i{item}") == (open_items.pop(f"i{item}", None) is not None)
