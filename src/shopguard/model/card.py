"""The model card: what a registered model was trained on, how it was validated, how well
it did, and what a user should be warned of. Fields added since the first cards have
defaults, so older cards still read."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec


class Threshold(msgspec.Struct, frozen=True):
    """Operating point on the validation window: flag scores above ``score``."""

    score: float
    fpr: float  # share of legitimate events flagged (realized: ties can keep it under target)
    recall: float  # share of fraud flagged
    precision: float
    target_fpr: float | None = None  # the false-positive rate asked for


class ModelCard(msgspec.Struct, kw_only=True):
    version: str  # m1, m2 ... (set at registration)
    created: float
    features: list[str]
    label: str  # what 1 means, e.g. "fraud or chargeback known by the cutoff"
    event_types: list[str] = []  # what it was trained on and scores; empty: every type
    train_window: tuple[float, float]  # event times, epoch seconds
    valid_window: tuple[float, float]
    rows: dict[str, int]  # train, valid, train_positive, valid_positive
    params: dict[str, Any]
    best_iteration: int
    metrics: dict[str, float]  # on the validation window: roc_auc, average_precision
    thresholds: list[Threshold]
    note: str = ""
    # category column -> its values, the code of a value being its index (categories.py)
    categories: dict[str, list[str]] = {}
    constant: list[str] = []  # features with one value (or none) in training
    # how validation rows were chosen and the round count decided: scheme, share, group...
    validation: dict[str, Any] = {}
    # k-fold cross-validation on the training rows: folds, per-metric mean, sd and values
    cv: dict[str, Any] = {}
    class_weight: str = ""  # e.g. "auto: sqrt(440.2) = 21.0"
    warnings: list[str] = []
    # the validation scores' cumulative curve: (cut, frauds >= cut, honest >= cut), from
    # which evaluate-model picks a cost threshold without looking at the set it evaluates
    curve: list[tuple[float, int, int]] = []

    def write(self, path: Path) -> None:
        path.write_bytes(msgspec.json.format(msgspec.json.encode(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        return msgspec.json.decode(path.read_bytes(), type=cls)
