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
            )
        )
    return out
