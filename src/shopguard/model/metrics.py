"""Ranking metrics, computed the textbook way with NumPy (ties share their average rank)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from shopguard.model.card import Threshold

Floats = NDArray[np.float64]


def roc_auc(y: Floats, score: Floats) -> float:
    """Mann-Whitney U over average ranks."""
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    # average ranks for ties
    _, first, counts = np.unique(sorted_scores, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1
    ranks[order] = np.repeat(avg, counts)
    pos = y == 1
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def average_precision(y: Floats, score: Floats) -> float:
    """Mean of the precision at each fraud's rank (scikit-learn's definition)."""
    order = np.argsort(-score, kind="mergesort")
    hits = y[order] == 1
    if not hits.any():
        return float("nan")
    precision = np.cumsum(hits) / np.arange(1, len(hits) + 1)
    return float(precision[hits].mean())


def thresholds(y: Floats, score: Floats, fprs: tuple[float, ...]) -> list[Threshold]:
    """The score cut giving each false-positive rate, with its recall and precision."""
    legit = np.sort(score[y == 0])[::-1]
    fraud = score[y == 1]
    out = []
    for fpr in fprs:
        k = int(fpr * len(legit))
        cut = float(legit[k]) if k < len(legit) else float("-inf")
        flagged_fraud = int((fraud > cut).sum())
        flagged_legit = int((legit > cut).sum())
        flagged = flagged_fraud + flagged_legit
        out.append(
            Threshold(
                round(cut, 6),
                round(flagged_legit / max(len(legit), 1), 6),
                round(flagged_fraud / max(len(fraud), 1), 6),
                round(flagged_fraud / flagged, 6) if flagged else 0.0,
                fpr,
            )
        )
    return out


def distinct(points: list[Threshold]) -> list[tuple[list[float], Threshold]]:
    """Operating points grouped by score cut: when scores tie (a saturated model gives
    many events exactly 1.0), several asked-for rates land on one cut and flag the same
    events; they are one operating point, reported once with every rate that led to it."""
    grouped: dict[float, tuple[list[float], Threshold]] = {}
    for t in points:
        targets, _ = grouped.setdefault(t.score, ([], t))
        targets.append(t.fpr if t.target_fpr is None else t.target_fpr)
    return list(grouped.values())


Curve = list[tuple[float, int, int]]


def curve(y: Floats, score: Floats, points: int = 256) -> Curve:
    """(cut, frauds scoring >= cut, honest scoring >= cut) at up to ``points`` distinct
    cuts spread evenly over the ranks: enough to pick a cost threshold again later with
    other costs, far smaller than the scores themselves."""
    order = np.argsort(-score, kind="mergesort")
    ss, ys = score[order], y[order]
    caught, ranks = np.cumsum(ys), np.arange(1, len(ys) + 1)
    # the last rank of each run of equal scores: a cut flags a whole run or none of it
    ends = np.flatnonzero(np.r_[ss[:-1] > ss[1:], True])
    if len(ends) > points:
        ends = ends[np.unique(np.linspace(0, len(ends) - 1, points).round().astype(int))]
    return [(float(ss[i]), int(caught[i]), int(ranks[i] - caught[i])) for i in ends]


def cheapest_on_curve(
    points: Curve, frauds: int, missed_fraud: float, blocked_honest: float
) -> tuple[float, float]:
    """(score cut, cost) minimizing the cost over ``points``' cuts (flag scores >= cut),
    or flagging nothing (a cut above every score)."""
    best_cut = (points[0][0] + 1e-9) if points else 1.0
    best_cost = missed_fraud * frauds
    for cut, caught, honest in points:
        cost = missed_fraud * (frauds - caught) + blocked_honest * honest
        if cost < best_cost:
            best_cut, best_cost = cut, cost
    return best_cut, best_cost


def at_cut(
    y: Floats, score: Floats, cut: float, missed_fraud: float, blocked_honest: float
) -> dict[str, float]:
    """What flagging scores >= ``cut`` does on a labelled set: recall, FPR, precision, cost."""
    flagged, fraud = score >= cut, y == 1
    caught, blocked = int((flagged & fraud).sum()), int((flagged & ~fraud).sum())
    frauds, honest = int(fraud.sum()), int((~fraud).sum())
    return {
        "score": round(cut, 6),
        "recall": round(caught / max(frauds, 1), 4),
        "fpr": round(blocked / max(honest, 1), 6),
        "precision": round(caught / max(caught + blocked, 1), 4),
        "total_cost": missed_fraud * (frauds - caught) + blocked_honest * blocked,
    }


def card_precision_at_k(
    day: NDArray[np.int64], entity: NDArray[np.str_], y: Floats, score: Floats, k: int = 100
) -> float:
    """Per day: the ``k`` entities (cards, customers) with the highest maximum score that
    day, and the share of them with a fraud that day; averaged over days (the handbook's
    card-precision@k)."""
    shares = []
    for d in np.unique(day):
        on = day == d
        best: dict[str, tuple[float, bool]] = {}
        for e, s, label in zip(entity[on], score[on], y[on], strict=True):
            top, fraud = best.get(e, (-np.inf, False))
            best[e] = (max(top, s), fraud or label == 1)
        ranked = sorted(best.values(), key=lambda v: -v[0])[:k]
        shares.append(sum(fraud for _, fraud in ranked) / k)
    return float(np.mean(shares)) if shares else float("nan")


def cheapest_threshold(
    y: Floats, score: Floats, missed_fraud: float, blocked_honest: float
) -> tuple[float, float]:
    """(score cut, total cost) minimizing missed_fraud x frauds below the cut plus
    blocked_honest x honest events at or above it (flag scores >= the cut)."""
    order = np.argsort(-score, kind="mergesort")
    ys, ss = y[order], score[order]
    frauds = ys.sum()
    # flagging the top i events: cost = missed * (frauds - caught_i) + blocked * honest_i
    caught = np.concatenate([[0.0], np.cumsum(ys)])
    honest = np.arange(len(ys) + 1) - caught
    cost = missed_fraud * (frauds - caught) + blocked_honest * honest
    # only cuts between distinct scores can be realized by a threshold
    cuttable = np.ones(len(cost), dtype=bool)
    cuttable[1:-1] = ss[:-1] > ss[1:]
    cost = np.where(cuttable, cost, np.inf)
    best = int(np.argmin(cost))
    cut = float(ss[best - 1]) if best else float(ss[0]) + 1e-9
    return cut, float(cost[best])
