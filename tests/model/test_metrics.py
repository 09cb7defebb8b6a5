"""The ranking metrics against from-scratch recomputations."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from shopguard.model.metrics import (
    at_cut,
    average_precision,
    card_precision_at_k,
    cheapest_on_curve,
    cheapest_threshold,
    curve,
    distinct,
    roc_auc,
    thresholds,
)

labelled = st.lists(
    st.tuples(st.integers(0, 1), st.integers(0, 20).map(lambda s: s / 20)), min_size=2, max_size=60
)


@settings(max_examples=200, deadline=None)
@given(labelled)
def test_roc_auc_is_the_share_of_correctly_ordered_pairs(rows: list[tuple[int, float]]) -> None:
    y = np.array([r[0] for r in rows], float)
    s = np.array([r[1] for r in rows], float)
    pos, neg = s[y == 1], s[y == 0]
    if not len(pos) or not len(neg):
        return
    pairs = [(p > n) + 0.5 * (p == n) for p in pos for n in neg]
    assert abs(roc_auc(y, s) - sum(pairs) / len(pairs)) < 1e-9


def test_average_precision_by_hand() -> None:
    y = np.array([1, 0, 1, 0, 0], float)
    s = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert abs(average_precision(y, s) - (1 / 1 + 2 / 3) / 2) < 1e-12


def test_card_precision_takes_each_days_top_k_entities() -> None:
    day = np.array([0, 0, 0, 0, 1, 1])
    who = np.array(["a", "a", "b", "c", "a", "b"])
    y = np.array([0, 1, 0, 0, 0, 0], float)
    s = np.array([0.9, 0.1, 0.5, 0.4, 0.2, 0.3])
    # day 0: top-2 by max score = a (0.9, fraud that day), b -> 1/2; day 1: b, a -> 0/2
    assert card_precision_at_k(day, who, y, s, k=2) == 0.25


@settings(max_examples=200, deadline=None)
@given(labelled, st.floats(1, 100), st.floats(1, 100))
def test_cheapest_threshold_beats_every_other_cut(
    rows: list[tuple[int, float]], missed: float, blocked: float
) -> None:
    y = np.array([r[0] for r in rows], float)
    s = np.array([r[1] for r in rows], float)

    def cost(cut: float) -> float:
        return float(
            missed * ((y == 1) & (s < cut)).sum() + blocked * ((y == 0) & (s >= cut)).sum()
        )

    chosen, best = cheapest_threshold(y, s, missed, blocked)
    assert abs(cost(chosen) - best) < 1e-6  # the cut realizes the cost it reports
    assert all(best <= cost(cut) + 1e-6 for cut in [*s, 2.0])


def test_tied_scores_are_one_operating_point_reported_once() -> None:
    # a saturated model: the 30 riskiest honest events and most frauds score exactly 1.0
    y = np.r_[np.zeros(1000), np.ones(40)]
    score = np.r_[np.full(30, 1.0), np.linspace(0, 0.9, 970), np.full(35, 1.0), np.full(5, 0.5)]
    points = thresholds(y, score, (0.001, 0.005, 0.01, 0.02, 0.05))
    grouped = distinct(points)
    assert [targets for targets, _ in grouped] == [[0.001, 0.005, 0.01, 0.02], [0.05]]
    assert grouped[0][1].fpr == 0.0 and grouped[0][1].score == 1.0  # nothing above 1.0


@settings(max_examples=60, deadline=None)
@given(labelled, st.floats(1, 100), st.floats(1, 100))
def test_the_curve_keeps_the_cheapest_cut(
    pairs: list[tuple[int, float]], miss: float, block: float
) -> None:
    y = np.array([p[0] for p in pairs], dtype=float)
    score = np.array([p[1] for p in pairs])
    cut, cost = cheapest_on_curve(curve(y, score), int(y.sum()), miss, block)
    _, best = cheapest_threshold(y, score, miss, block)
    assert cost == best  # every distinct score is on a curve this short
    assert at_cut(y, score, cut, miss, block)["total_cost"] == cost
