"""fit(): validation rows by time (the default) or as given (whole groups)."""

from __future__ import annotations

import numpy as np
import pytest

from shopguard.errors import ConfigError
from shopguard.model.train import class_weight, fit, warnings


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


def test_class_weight_modes() -> None:
    y = np.r_[np.ones(10), np.zeros(4400)]  # 440:1
    weight, said = class_weight("auto", y)
    assert weight == pytest.approx(440**0.5) and said == "auto: sqrt(440.0) = 21.0"
    assert class_weight("auto", np.r_[np.ones(1), np.zeros(100_000)])[0] == 50.0  # capped
    assert class_weight("off", y) == (1.0, "off")
    assert class_weight("7.5", y) == (7.5, "7.5")
    for wrong in ("heavy", "0"):
        with pytest.raises(ConfigError, match="class weight"):
            class_weight(wrong, y)
    x, labels, when = _data()
    _, card = fit(x, labels, when, ["a", "b", "c"], "y", weight="off", min_rounds=5)
    assert card.params["scale_pos_weight"] == 1.0 and card.class_weight == "off"
    given = {"scale_pos_weight": 2.0}
    _, card = fit(x, labels, when, ["a", "b", "c"], "y", params=given, min_rounds=5)
    assert card.params["scale_pos_weight"] == 2.0 and card.class_weight == "from the parameters"


def _noise() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)  # a draw whose validation peaks at 3 trees
    x = rng.normal(size=(2000, 3))
    return x, (rng.random(2000) < 0.05).astype(float), np.arange(2000, dtype=float)


def test_early_stopping_waits_for_the_minimum_and_the_card_warns() -> None:
    x, y, when = _noise()  # nothing to learn: validation peaks by chance, at once
    _, hasty = fit(x, y, when, ["a", "b", "c"], "y", min_rounds=1, valid_share=0.1)
    assert hasty.best_iteration < 10
    assert any("trees (< 10)" in w for w in hasty.warnings)
    assert any("only" in w and "frauds (< 30)" in w for w in hasty.warnings)
    _, floor = fit(x, y, when, ["a", "b", "c"], "y", valid_share=0.1)
    assert floor.best_iteration >= 50
    at_floor = any("never improved past the minimum of 50" in w for w in floor.warnings)
    assert at_floor == (floor.best_iteration == 50)
    floor.best_iteration = 50
    assert "never improved past the minimum of 50 rounds" in warnings(floor, True)[-1]
    x, y, when = _data()
    _, sound = fit(x, y, when, ["a", "b", "c"], "y", params={"num_leaves": 4})
    assert sound.warnings == []


def test_k_folds_report_mean_and_sd_and_choose_the_tree_count() -> None:
    x, y, when = _data()
    _, card = fit(x, y, when, ["a", "b", "c"], "y", folds=4, scheme="random", min_rounds=10)
    auc = card.cv["roc_auc"]
    assert len(auc["folds"]) == 4 and card.cv["folds"] == 4
    assert auc["mean"] == pytest.approx(np.mean(auc["folds"]), abs=1e-6)
    assert auc["sd"] == pytest.approx(np.std(auc["folds"], ddof=1), abs=1e-6) and auc["sd"] > 0
    assert 0.8 < auc["mean"] < 1 and "mean" in card.cv["average_precision"]
    assert card.best_iteration == int(np.median(card.cv["best_iterations"]))
    assert card.validation["rounds"] == "median best round of 4 folds"


@pytest.mark.parametrize("scheme", ["time", "random", "group"])
def test_each_validation_scheme_trains_from_a_table(scheme: str) -> None:
    import pyarrow as pa

    from shopguard.model.trainer import TrainOptions, train_table

    x, y, when = _data()
    devices = [f"d{i % 500}" for i in range(3000)]
    table = pa.table(
        {"time": when, "label": y, "a": x[:, 0], "b": x[:, 1], "entity_device": devices}
    )
    options = TrainOptions(validation=scheme, group="entity_device", folds=3, min_rounds=10)
    _, card = train_table(table, options)
    assert card.validation["scheme"] == scheme and card.cv["scheme"] == scheme
    assert card.rows["valid"] == pytest.approx(600, abs=10) and card.metrics["roc_auc"] > 0.8
    assert ("group" in card.validation) == (scheme == "group")
    assert card.features == ["a", "b"]  # the entity is for grouping, never an input
