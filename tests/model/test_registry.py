"""The model registry's trail is hash-chained, and a registered model's files are
checked: an edited change or a swapped model file is found, and not served."""

from __future__ import annotations

import time
from pathlib import Path

import lightgbm
import numpy as np
import pytest

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.registry import ModelRegistry, registered_scorers


def _model(trees: int) -> tuple[str, ModelCard]:
    rng = np.random.default_rng(trees)
    x = rng.normal(size=(500, 2))
    booster = lightgbm.train(
        {"objective": "binary", "verbose": -1, "num_leaves": 4},
        lightgbm.Dataset(x, (x[:, 0] > 0.5).astype(float)),
        num_boost_round=trees,
    )
    card = ModelCard(
        version="", created=time.time(), features=["amount", "hour"], label="test",
        train_window=(0.0, 1.0), valid_window=(1.0, 2.0), rows={}, params={},
        best_iteration=trees, metrics={}, thresholds=[],
    )  # fmt: skip
    return booster.model_to_string(), card


@pytest.fixture
def registry(tmp_path: Path) -> ModelRegistry:
    registry = ModelRegistry(tmp_path / "models")
    for trees in (3, 5):
        registry.register(*_model(trees), "test")
    registry.change("champion", "ana", "m1")
    registry.change("challenger", "ana", "m2")
    registry.change("promote", "li")
    return registry


def test_an_untouched_trail_verifies(registry: ModelRegistry) -> None:
    report = registry.verify()
    assert report.ok and report.records == 5
    champion, challenger = registered_scorers(registry.root)
    assert champion is not None and champion.name == "m2" and challenger is None


def test_a_swapped_model_file_is_found_and_not_served(registry: ModelRegistry) -> None:
    model = registry.path("m2") / "model.txt"
    model.write_text(_model(7)[0])
    report = registry.verify()
    assert report.problem.startswith("record edited") and report.at == 2
    with pytest.raises(ConfigError, match="m2: its files changed"):
        registered_scorers(registry.root)


def test_an_edited_or_removed_change_breaks_the_chain(registry: ModelRegistry) -> None:
    trail = registry.root / "changes.jsonl"
    lines = trail.read_bytes().splitlines()
    trail.write_bytes(b"\n".join([*lines[:4], lines[4].replace(b'"li"', b'"eve"')]) + b"\n")
    assert registry.verify().problem == "chain broken" and registry.verify().at == 5
    trail.write_bytes(b"\n".join([*lines[:2], *lines[3:]]) + b"\n")  # the champion change
    assert registry.verify().problem == "chain broken" and registry.verify().at == 3
