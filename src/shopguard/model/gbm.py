"""A LightGBM model as a scorer: the model's features are read from the decision's scope
(facts and feature values, as of before the event) in the model's own order; a missing
value is NaN, which LightGBM routes down its learned default branch."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightgbm
import numpy as np

from shopguard.model.card import ModelCard
from shopguard.model.scorer import SCORERS


class GbmScorer:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.card = ModelCard.read(path / "card.json")
        self.name = self.card.version
        self.features: tuple[str, ...] = tuple(self.card.features)
        self._booster = lightgbm.Booster(model_file=str(path / "model.txt"))
        self._row = np.empty((1, len(self.features)), dtype=np.float64)

    def score(self, values: Mapping[str, Any]) -> float | None:
        row = self._row[0]
        for i, name in enumerate(self.features):
            value = values.get(name)
            row[i] = math.nan if value is None else float(value)
        return float(self._booster.predict(self._row, num_threads=1)[0])


SCORERS["lightgbm"] = GbmScorer
