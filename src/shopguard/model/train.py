"""Fit LightGBM on a training set and describe it honestly in its card.

Validation rows are given (``split.holdout``: the newest share, a random share or whole
entities) or, by default, the newest share. The number of trees comes either from early
stopping on validation, never before ``min_rounds`` (a small, noisy validation window
can peak at 4 trees by chance and stop there), or, with ``folds``, from k-fold
cross-validation on the training rows only: the median of the folds' best round counts,
then one model on every training row, scored once on validation. The card reports the
folds' metrics as mean ± sd, and warns of what makes its figures weak."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import lightgbm
import numpy as np
from lightgbm.callback import CallbackEnv, EarlyStopException
from numpy.typing import NDArray

from shopguard.errors import ConfigError
from shopguard.model import split
from shopguard.model.card import ModelCard
from shopguard.model.metrics import average_precision, curve, roc_auc, thresholds

DEFAULTS: dict[str, Any] = {
    "objective": "binary",
    # stop on ranking quality: with class weights the validation log loss rises from the
    # first round (weighted training, unweighted validation), which would stop at 1 tree
    "metric": "average_precision",
    "learning_rate": 0.05,
    "num_leaves": 31,
    "min_data_in_leaf": 50,
    "feature_fraction": 0.8,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "verbose": -1,
    "num_threads": 2,
    "seed": 7,
}
FPRS = (0.001, 0.005, 0.01, 0.02, 0.05)
MIN_ROUNDS = 50
PATIENCE = 50
FEW_POSITIVES = 30  # below this many frauds in validation, its metrics are noise
FEW_TREES = 10
WEIGHT_CAP = 50.0
Floats = NDArray[np.float64]


def class_weight(spec: str, y: Floats) -> tuple[float, str]:
    """(positive weight, how it was chosen). ``auto``: the square root of the imbalance,
    at most 50. The full ratio (440 on 440:1 data) makes fraud weigh as much as every
    honest row together: the model then aims at a 50 % fraud rate, pushes the riskiest
    honest and most frauds to scores of exactly 1.0, and the ties erase the top of the
    ranking where thresholds live. The square root halves that shift in log-odds
    (6.1 -> 3.0 at 440:1) while still giving the few frauds enough weight to be split
    on. ``off``: 1. A number: that weight."""
    positives = float(y.sum())
    ratio = (len(y) - positives) / positives
    if spec == "auto":
        weight = min(math.sqrt(ratio), WEIGHT_CAP) if ratio > 1 else 1.0
        return weight, f"auto: sqrt({ratio:.1f}) = {weight:.1f}" + (
            " (capped)" if weight == WEIGHT_CAP else ""
        )
    if spec == "off":
        return 1.0, "off"
    try:
        weight = float(spec)
    except ValueError:
        raise ConfigError(f"class weight {spec!r}: auto, off or a number") from None
    if not weight > 0:
        raise ConfigError(f"class weight {spec!r} must be above 0")
    return weight, f"{weight:g}"


def _stopper(min_rounds: int, patience: int, best: list[float]) -> Callable[[CallbackEnv], None]:
    """Early stopping that looks only from ``min_rounds`` on; ``best`` holds [score,
    round] of the best round seen."""

    def callback(env: CallbackEnv) -> None:
        if not env.evaluation_result_list:
            return
        _, _, value, higher_better = env.evaluation_result_list[0][:4]
        done = env.iteration + 1
        if done < min_rounds:
            return
        score = value if higher_better else -value
        if score > best[0]:
            best[0], best[1] = score, done
        elif done - best[1] >= patience:
            raise EarlyStopException(int(best[1]) - 1, env.evaluation_result_list)

    callback.order = 30  # type: ignore[attr-defined]
    return callback


def _train(
    params: dict[str, Any],
    x: Floats,
    y: Floats,
    rows: tuple[NDArray[np.int64], NDArray[np.int64] | None],
    names: list[str],
    categorical: Sequence[str],
    rounds: int,
    min_rounds: int,
) -> tuple[lightgbm.Booster, int]:
    """A booster on ``rows[0]``; with validation rows ``rows[1]``, early stopping on them
    from ``min_rounds``, else exactly ``rounds`` trees. Returns it and its tree count."""
    train, valid = rows
    cats = list(categorical)

    def data(at: NDArray[np.int64]) -> lightgbm.Dataset:
        return lightgbm.Dataset(x[at], y[at], feature_name=names, categorical_feature=cats)

    if valid is None:
        return lightgbm.train(params, data(train), num_boost_round=rounds), rounds
    best = [-math.inf, float(min(min_rounds, rounds))]
    booster = lightgbm.train(
        params,
        data(train),
        num_boost_round=rounds,
        valid_sets=[data(valid)],
        callbacks=[_stopper(min(min_rounds, rounds), PATIENCE, best)],
    )
    return booster, int(best[1])


def _folds(
    params: dict[str, Any],
    x: Floats,
    y: Floats,
    when: Floats,
    names: list[str],
    categorical: Sequence[str],
    train: NDArray[np.int64],
    plan: dict[str, Any],
) -> dict[str, Any]:
    """k-fold cross-validation on the ``train`` rows: per fold, the metrics and best round
    count; folds without a fraud on either side are left out (and counted)."""
    groups = plan["groups"][train] if plan.get("groups") is not None else None
    auc: list[float] = []
    ap: list[float] = []
    its: list[int] = []
    skipped = 0
    scheme, k = plan["scheme"], plan["folds"]
    for fold_train, fold_valid in split.folds(scheme, y[train], when[train], k, groups):
        a, b = train[fold_train], train[fold_valid]
        if not y[a].sum() or not y[b].sum() or y[b].sum() == len(b):
            skipped += 1
            continue
        booster, best = _train(
            params, x, y, (a, b), names, categorical, plan["rounds"], plan["min_rounds"]
        )
        scored = np.asarray(booster.predict(x[b], num_iteration=best), float)
        auc.append(roc_auc(y[b], scored))
        ap.append(average_precision(y[b], scored))
        its.append(best)
    if len(its) < 2:
        raise ConfigError(f"{k}-fold cross-validation: under 2 folds hold frauds on both sides")

    def summary(values: list[float]) -> dict[str, Any]:
        return {
            "mean": round(float(np.mean(values)), 6),
            "sd": round(float(np.std(values, ddof=1)), 6),
            "folds": [round(v, 6) for v in values],
        }

    return {
        "folds": k,
        "scheme": scheme,
        "skipped": skipped,
        "roc_auc": summary(auc),
        "average_precision": summary(ap),
        "best_iterations": its,
    }


def fit(
    x: Floats,
    y: Floats,
    when: Floats,
    features: list[str],
    label: str,
    valid_share: float = 0.2,
    rounds: int = 1000,
    params: dict[str, Any] | None = None,
    valid: NDArray[np.bool_] | None = None,
    *,
    categorical: Sequence[str] = (),
    weight: str = "auto",
    folds: int = 0,
    scheme: str = "time",
    groups: NDArray[np.object_] | None = None,
    min_rounds: int = MIN_ROUNDS,
) -> tuple[str, ModelCard]:
    """(the model as LightGBM text, its card); ``version`` is set when registered.
    ``valid`` picks the validation rows (``split.holdout``), else the newest
    ``valid_share``. ``categorical``: the features holding category codes. ``folds`` >= 2
    chooses the tree count by cross-validation on the training rows, dealt by ``scheme``
    (by ``groups`` for "group")."""
    if len(features) != x.shape[1]:
        raise ConfigError(f"{x.shape[1]} columns for {len(features)} feature names")
    if valid is None:
        valid = split.holdout("time", y, when, valid_share)
    train, valid_rows = np.flatnonzero(~valid), np.flatnonzero(valid)
    positives = float(y[train].sum())
    if positives == 0 or y[valid_rows].sum() == 0:
        raise ConfigError("both the training and the validation window need positive labels")
    merged = {**DEFAULTS, **(params or {})}
    if "scale_pos_weight" in merged or merged.get("is_unbalance"):
        chosen = "from the parameters"
    else:
        merged["scale_pos_weight"], chosen = class_weight(weight, y[train])
    plan = {"scheme": scheme, "folds": folds, "groups": groups}
    plan.update(rounds=rounds, min_rounds=min_rounds)
    cv: dict[str, Any] = {}
    if folds:
        cv = _folds(merged, x, y, when, features, categorical, train, plan)
        trees = max(int(np.median(cv["best_iterations"])), 1)
        booster, best = _train(merged, x, y, (train, None), features, categorical, trees, 0)
        how = f"median best round of {len(cv['best_iterations'])} folds"
    else:
        booster, best = _train(
            merged, x, y, (train, valid_rows), features, categorical, rounds, min_rounds
        )
        how = f"early stopping on validation, from {min(min_rounds, rounds)} rounds"
    scored = np.asarray(booster.predict(x[valid_rows], num_iteration=best), float)
    card = ModelCard(
        version="",
        created=time.time(),
        features=features,
        label=label,
        train_window=(float(when[train].min()), float(when[train].max())),
        valid_window=(float(when[valid_rows].min()), float(when[valid_rows].max())),
        rows={
            "train": len(train),
            "valid": len(valid_rows),
            "train_positive": int(positives),
            "valid_positive": int(y[valid_rows].sum()),
        },
        params=merged,
        best_iteration=best,
        metrics={
            "roc_auc": round(roc_auc(y[valid_rows], scored), 6),
            "average_precision": round(average_precision(y[valid_rows], scored), 6),
        },
        thresholds=thresholds(y[valid_rows], scored, FPRS),
        constant=_constant(x[train], features),
        validation={"rounds": how},
        cv=cv,
        class_weight=chosen,
        curve=curve(y[valid_rows], scored),
    )
    card.warnings = warnings(card, folds == 0 and best <= min(min_rounds, rounds))
    text: str = booster.model_to_string(num_iteration=best)
    return text, card


def warnings(card: ModelCard, at_floor: bool) -> list[str]:
    """What makes this card's figures or model weak, in words a user can act on."""
    out = []
    frauds = card.rows["valid_positive"]
    if frauds < FEW_POSITIVES:
        out.append(
            f"validation holds only {frauds} frauds (< {FEW_POSITIVES}): its metrics are "
            "noisy; use a larger --valid-share or --folds"
        )
    if card.best_iteration < FEW_TREES:
        out.append(
            f"the model has {card.best_iteration} trees (< {FEW_TREES}): validation peaked "
            "almost at once, its figures are probably luck; try --folds or --min-rounds"
        )
    elif at_floor:
        out.append(
            f"validation never improved past the minimum of {card.best_iteration} rounds: "
            "the tree count is the floor, not learned; try --folds"
        )
    return out


def _constant(x: Floats, features: list[str]) -> list[str]:
    """Features with at most one distinct value (missing aside) on the training rows:
    no tree can split on them, so a set lacking them scores the same."""
    out = []
    for i, name in enumerate(features):
        column = x[:, i][~np.isnan(x[:, i])]
        if len(column) == 0 or column.min() == column.max():
            out.append(name)
    return out
