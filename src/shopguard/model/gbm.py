"""A LightGBM model as a scorer: the model's features are read from the decision's scope
(facts and feature values, as of before the event) in the model's own order; a missing
value is NaN, which the model routes down its learned default branch. Scoring runs the
model compiled to machine code (``compiled.py``); batch work (evaluation, training)
keeps LightGBM's own ``Booster.predict``. A category column is read as its code in the
card's encoding (``categories.py``): a value outside it is missing.

The engine is asked only for the features some tree splits on: a column the trees never
use costs nothing to leave missing, while computing it costs a state read per event."""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.categories import text
from shopguard.model.compiled import CompiledForest
from shopguard.model.scorer import SCORERS


class GbmScorer:
    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        self.card = ModelCard.read(path / "card.json")
        self.name = self.card.version
        self.columns: tuple[str, ...] = tuple(self.card.features)  # the model's row
        self.event_types = frozenset(self.card.event_types)
        self._forest = CompiledForest(path / "model.txt")
        if self._forest.n_features != len(self.columns):
            raise ConfigError(
                f"{path}: the model reads {self._forest.n_features} columns, "
                f"its card names {len(self.columns)}"
            )
        used = split_columns((path / "model.txt").read_text())
        self.features = tuple(n for i, n in enumerate(self.columns) if i in used)
        # numbers are read by name; a category's place reads a name no scope holds (so
        # NaN) and is then overwritten with its code
        self._numbers = tuple(_NO_NAME if n in self.card.categories else n for n in self.columns)
        self._categories = tuple(
            (i, n, {value: float(code) for code, value in enumerate(self.card.categories[n])})
            for i, n in enumerate(self.columns)
            if n in self.card.categories
        )

    def score(self, values: Mapping[str, Any]) -> float | None:
        nan, get = math.nan, values.get
        row = [nan if (v := get(name)) is None else v for name in self._numbers]
        for i, name, codes in self._categories:
            # text is the usual case: looked up as is, without a call to spell it
            v = get(name)
            row[i] = codes.get(v if v.__class__ is str else text(v), nan)  # type: ignore[arg-type]
        # one slice assignment: ctypes converts numbers and bools, and refuses text
        self._forest.row[:] = row
        return self._forest.predict()


_NO_NAME = "\0category"


def split_columns(model_text: str) -> set[int]:
    """The column indexes some tree of a LightGBM text model splits on."""
    used: set[int] = set()
    for line in model_text.splitlines():
        if line.startswith("split_feature="):
            used.update(int(i) for i in line[len("split_feature=") :].split())
    return used


SCORERS["lightgbm"] = GbmScorer
