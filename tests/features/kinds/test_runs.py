"""Runs of activity: silence before the current run and its age, checked against a
from-scratch recomputation over the raw event times."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from shopguard.features.kinds.runs import ActivityRun
from shopguard.state.snapshot import decode_state, encode_state

gaps = st.sampled_from([1, 30, 600, 3_600])
# Steps between events, ties and steps of exactly a gap included (the run boundary).
steps = st.lists(st.sampled_from([0, 1, 2, 29, 30, 31, 600, 601, 3_600, 3_601, 9_000]))
times = steps.map(lambda d: [sum(d[: i + 1]) for i in range(len(d))] or [0])


def current_run(seen: list[int], t: int, gap: int) -> tuple[float | None, float]:
    """(silence before the run this event at ``t`` is in, the run's age), from scratch."""
    history = [*seen, t]
    start = len(history) - 1
    while start > 0 and history[start] - history[start - 1] <= gap:
        start -= 1
    silence = None if start == 0 else float(history[start] - history[start - 1])
    return silence, float(t - history[start])


@given(times, gaps)
def test_runs_match_recomputation(ts: list[int], gap: int) -> None:
    run = ActivityRun()
    seen: list[int] = []
    for t in ts:
        if seen:  # as of before the event: the state holds only earlier events
            silence, age = current_run(seen, t, gap)
            assert run.silence_at(t, gap) == silence
            assert run.age_at(t, gap) == age
        run.add(t, gap)
        seen.append(t)


def test_a_late_event_counts_at_the_newest_time() -> None:
    run = ActivityRun()
    run.add(100.0, 10.0)
    run.add(50.0, 10.0)  # late: never rewinds the run
    assert run.last == 100.0 and run.age_at(105.0, 10.0) == 5.0
    assert run.silence_at(105.0, 10.0) is None  # still the key's first run


def test_a_run_survives_a_snapshot() -> None:
    run = ActivityRun()
    for t in (0.0, 5.0, 500.0, 503.0):
        run.add(t, 60.0)
    copy = decode_state(encode_state(run))
    assert isinstance(copy, ActivityRun)
    assert (copy.last, copy.start, copy.silence) == (503.0, 500.0, 495.0)
    fresh = decode_state(encode_state(ActivityRun()))
    assert math.isnan(fresh.last) and math.isnan(fresh.silence)
