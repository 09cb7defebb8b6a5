"""fit(): validation rows by time (the default) or as given (whole groups)."""

from __future__ import annotations

import numpy as np
import pytest

from shopguard.errors import ConfigError
from shopguard.model.train import fit


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3000, 3))
    y = (x[:, 0] + rng.normal(size=3000) * 0.5 > 1.2).astype(float)
    return x, y, np.arange(3000, dtype=float)


def test_the_newest_share_validates_by_default() -> None:
    x, y, when = _data()
    _, card = fit(x, y, when, ["a", "b", "c"], "y", params={"num_leaves": 4})
    assert card.rows["valid"] == 600 and card.valid_window == (2400.0, 2999.0)
    assert card.train_window == (0.0, 2399.0) and card.metrics["roc_auc"] > 0.8


def test_given_validation_rows_are_used_instead() -> None:
    x, y, when = _data()
    held = np.zeros(3000, dtype=bool)
    held[::4] = True  # e.g. every row of some devices, drawn like test folds
    _, card = fit(x, y, when, ["a", "b", "c"], "y", params={"num_leaves": 4}, valid=held)
    assert card.rows == {
        "train": 2250,
        "valid": 750,
        "train_positive": int(y[~held].sum()),
        "valid_positive": int(y[held].sum()),
    }
    with pytest.raises(ConfigError, match="positive labels"):
        fit(x, y, when, ["a", "b", "c"], "y", valid=y == 0)
