"""The model card: what a registered model was trained on and how well it did."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec


class Threshold(msgspec.Struct, frozen=True):
    """Operating point on the validation window: flag scores above ``score``."""

    score: float
    fpr: float  # share of legitimate events flagged
    recall: float  # share of fraud flagged
    precision: float


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

    def write(self, path: Path) -> None:
        path.write_bytes(msgspec.json.format(msgspec.json.encode(self), indent=2))

    @classmethod
    def read(cls, path: Path) -> ModelCard:
        return msgspec.json.decode(path.read_bytes(), type=cls)
