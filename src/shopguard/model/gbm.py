"""A LightGBM model as a scorer: the model's features are read from the decision's scope
(facts and feature values, as of before the event) in the model's own order; a missing
value is NaN, which the model routes down its learned default branch. Scoring runs the
model compiled to machine code (``compiled.py``); batch work (evaluation, training)
keeps LightGBM's own ``Booster.predict``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.compiled import CompiledForest
from shopguard.model.scorer import SCORERS


class GbmScorer:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.card = ModelCard.read(path / "card.json")
        self.name = self.card.version
        self.features: tuple[str, ...] = tuple(self.card.features)
        self.event_types = frozenset(self.card.event_types)
        self._forest = CompiledForest(path / "model.txt")
        if self._forest.n_features != len(self.features):
            raise ConfigError(
                f"{path}: the model reads {self._forest.n_features} columns, "
                f"its card names {len(self.features)}"
            )

    def score(self, values: Mapping[str, Any]) -> float | None:
        nan, get = math.nan, values.get
        # one slice assignment: ctypes converts numbers and bools, and refuses text
        self._forest.row[:] = [nan if (v := get(name)) is None else v for name in self.features]
        return self._forest.predict()


SCORERS["lightgbm"] = GbmScorer
