"""The compiled forest scores exactly as LightGBM does, missing values included, and its
object code is cached beside the model under the model's digest."""

from __future__ import annotations

from pathlib import Path

import lightgbm
import numpy as np
import pytest

from shopguard.model.compiled import CompiledForest, cache_path


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4000, 6))
    x[rng.random(x.shape) < 0.2] = np.nan  # missing values take learned default branches
    y = np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * 2 + rng.normal(size=4000) > 1
    booster = lightgbm.train(
        {"objective": "binary", "num_leaves": 15, "verbose": -1, "min_data_in_leaf": 10},
        lightgbm.Dataset(x, y.astype(float)),
        num_boost_round=40,
    )
    path = tmp_path_factory.mktemp("forest") / "model.txt"
    booster.save_model(str(path))
    return path


def test_compiled_scores_equal_lightgbm_with_missing_values(model_file: Path) -> None:
    booster = lightgbm.Booster(model_file=str(model_file))
    rows = np.random.default_rng(9).normal(size=(500, 6)) * 2
    rows[np.random.default_rng(10).random(rows.shape) < 0.3] = np.nan
    forest = CompiledForest(model_file)
    assert forest.n_features == 6
    compiled = []
    for row in rows:
        for i, value in enumerate(row):
            forest.row[i] = float(value)
        compiled.append(forest.predict())
    np.testing.assert_allclose(compiled, booster.predict(rows), rtol=1e-12, atol=1e-12)


def test_object_code_is_cached_by_digest_and_reused(model_file: Path) -> None:
    CompiledForest(model_file)
    cached = cache_path(model_file)
    assert cached.exists() and cached.parent == model_file.parent
    stamp = cached.stat().st_mtime_ns
    again = CompiledForest(model_file)
    assert cached.stat().st_mtime_ns == stamp  # loaded, not rebuilt
    again.row[0] = 3.0
    assert 0.0 < again.predict() < 1.0
    assert not list(model_file.parent.glob("*.tmp"))
    # a changed model text gets another name: a stale object is never loaded for it
    changed = model_file.parent / "changed" / "model.txt"
    changed.parent.mkdir()
    changed.write_text(model_file.read_text() + "\n")
    assert cache_path(changed).name != cached.name


def test_the_engine_is_asked_only_for_columns_some_tree_splits_on(tmp_path: Path) -> None:
    import time

    from shopguard.model.card import ModelCard
    from shopguard.model.gbm import GbmScorer, split_columns

    rng = np.random.default_rng(3)
    x = rng.normal(size=(2000, 3))
    x[:, 2] = 0.0  # a constant column: no tree can split on it
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 7},
        lightgbm.Dataset(x, (x[:, 0] + x[:, 1] > 0).astype(float)),
        num_boost_round=10,
    )
    (tmp_path / "model.txt").write_text(booster.model_to_string())
    names = ["amount", "hour", "account_age"]
    ModelCard(
        version="m1", created=time.time(), features=names, label="test",
        train_window=(0.0, 1.0), valid_window=(1.0, 2.0), rows={}, params={},
        best_iteration=10, metrics={}, thresholds=[],
    ).write(tmp_path / "card.json")  # fmt: skip
    assert split_columns(booster.model_to_string()) == {0, 1}
    scorer = GbmScorer(tmp_path)
    assert scorer.columns == tuple(names) and scorer.features == ("amount", "hour")
    row = {"amount": 0.3, "hour": -1.2}
    expected = booster.predict(np.array([[0.3, -1.2, np.nan]]))[0]
    assert scorer.score(row) == pytest.approx(expected, abs=1e-12)


def test_categorical_splits_score_equal_lightgbm(tmp_path: Path) -> None:
    # 120 codes: bitsets of one to four 32-bit words; rows hold codes past every bitset
    # and missing codes, which both take the right branch
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6000, 3))
    x[:, 1] = rng.integers(0, 120, len(x))
    x[:, 2] = rng.integers(0, 40, len(x))
    risky = (x[:, 1] % 5 == 0) | (x[:, 2] % 3 == 0) & (x[:, 1] > 90)
    y = (x[:, 0] + 2 * risky + rng.normal(size=len(x)) > 1.5).astype(float)
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "min_data_per_group": 5}
    data = lightgbm.Dataset(x, y, categorical_feature=[1, 2])
    booster = lightgbm.train({**params, "max_cat_threshold": 64}, data, num_boost_round=30)
    path = tmp_path / "model.txt"
    booster.save_model(str(path))
    boundaries = [
        np.diff([int(b) for b in line.split("=")[1].split()])
        for line in path.read_text().splitlines()
        if line.startswith("cat_boundaries=")
    ]
    assert max(max(b) for b in boundaries) >= 3  # some bitsets span three words or more
    rows = np.random.default_rng(4).normal(size=(1000, 3))
    rows[:, 1] = np.random.default_rng(5).integers(0, 140, len(rows))
    rows[:, 2] = np.random.default_rng(6).integers(0, 45, len(rows))
    rows[np.random.default_rng(7).random(rows.shape) < 0.1] = np.nan
    forest = CompiledForest(path)
    compiled = []
    for row in rows:
        forest.row[:] = [float(v) for v in row]
        compiled.append(forest.predict())
    np.testing.assert_allclose(compiled, booster.predict(rows), rtol=1e-12, atol=1e-12)
