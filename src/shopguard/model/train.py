"""Fit LightGBM on a training set: time-based validation (the newest share of rows by
event time), early stopping on it, the class imbalance weighed in (negatives/positives),
and a model card with the validation metrics and a threshold table."""

from __future__ import annotations

import time
from typing import Any

import lightgbm
import numpy as np
from numpy.typing import NDArray

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.metrics import average_precision, roc_auc, thresholds

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


def fit(
    x: NDArray[np.float64],
    y: NDArray[np.float64],
    when: NDArray[np.float64],
    features: list[str],
    label: str,
    valid_share: float = 0.2,
    rounds: int = 1000,
    params: dict[str, Any] | None = None,
    valid: NDArray[np.bool_] | None = None,
) -> tuple[str, ModelCard]:
    """(the model as LightGBM text, its card); ``version`` is set when registered.
    ``valid`` picks the validation rows instead (e.g. whole devices, drawn as the test
    folds of a grouped cross-validation are), the rest train."""
    if len(features) != x.shape[1]:
        raise ConfigError(f"{x.shape[1]} columns for {len(features)} feature names")
    if valid is None:
        order = np.argsort(when, kind="mergesort")
        cut = int(len(order) * (1 - valid_share))
        train, valid_rows = order[:cut], order[cut:]
    else:
        train, valid_rows = np.flatnonzero(~valid), np.flatnonzero(valid)
    positives = float(y[train].sum())
    if positives == 0 or y[valid_rows].sum() == 0:
        raise ConfigError("both the training and the validation window need positive labels")
    merged = {**DEFAULTS, **(params or {})}
    merged.setdefault("scale_pos_weight", (len(train) - positives) / positives)
    booster = lightgbm.train(
        merged,
        lightgbm.Dataset(x[train], y[train], feature_name=features),
        num_boost_round=rounds,
        valid_sets=[lightgbm.Dataset(x[valid_rows], y[valid_rows], feature_name=features)],
        callbacks=[lightgbm.early_stopping(50, verbose=False)],
    )
    scored = np.asarray(booster.predict(x[valid_rows], num_iteration=booster.best_iteration), float)
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
        best_iteration=int(booster.best_iteration),
        metrics={
            "roc_auc": round(roc_auc(y[valid_rows], scored), 6),
            "average_precision": round(average_precision(y[valid_rows], scored), 6),
        },
        thresholds=thresholds(y[valid_rows], scored, FPRS),
    )
    text: str = booster.model_to_string(num_iteration=booster.best_iteration)
    return text, card
