"""The model registry's trail is hash-chained, and a registered model's files are
checked: an edited change or a swapped model file is found, and not served. On both
backends: files and trail under data_dir/models, or in PostgreSQL (files as bytea,
copied to each machine's models folder to be served)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import lightgbm
import numpy as np
import pytest

from shopguard.errors import ConfigError
from shopguard.model.card import ModelCard
from shopguard.model.registry import ModelRegistry, Models, registered_scorers
from shopguard.registries.postgres import Where
from tests.registries.schemas import BACKENDS, execute, schema


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


class Shelf:
    """One deployment's model registry: ``open`` a worker's view (``root``: its machine's
    models folder), and tamper with what the registry keeps."""

    def __init__(self, root: Path, where: Where | None) -> None:
        self.root, self.where = root, where

    def open(self, root: Path | None = None) -> Models:
        if self.where is None:
            return ModelRegistry(root or self.root)
        from shopguard.model.registry_pg import PgModels

        return PgModels(self.where, root or self.root, b"k" * 32)

    def swap_model(self, version: str, text: str) -> None:
        if self.where is None:
            (self.root / version / "model.txt").write_text(text)
        else:
            execute(self.where, "UPDATE model_files SET model = %s WHERE version = %s",
                    (text.encode(), version))  # fmt: skip

    def edit_actor(self, position: int, actor: str) -> None:
        if self.where is None:
            trail = self.root / "changes.jsonl"
            lines = trail.read_bytes().splitlines()
            change = json.loads(lines[position - 1])
            lines[position - 1] = json.dumps({**change, "actor": actor}).encode()
            trail.write_bytes(b"\n".join(lines) + b"\n")
        else:
            execute(self.where, "UPDATE model_changes SET actor = %s WHERE id = %s",
                    (actor, position))  # fmt: skip

    def drop_change(self, position: int) -> None:
        if self.where is None:
            trail = self.root / "changes.jsonl"
            lines = trail.read_bytes().splitlines()
            trail.write_bytes(b"\n".join(lines[: position - 1] + lines[position:]) + b"\n")
        else:
            execute(self.where, "DELETE FROM model_changes WHERE id = %s", (position,))


@pytest.fixture(params=BACKENDS)
def shelf(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Shelf]:
    with ExitStack() as stack:
        where = stack.enter_context(schema("models")) if request.param == "postgres" else None
        yield Shelf(tmp_path / "models", where)


@pytest.fixture
def registry(shelf: Shelf) -> Iterator[Models]:
    registry = shelf.open()
    for trees in (3, 5):
        registry.register(*_model(trees), "test")
    registry.change("champion", "ana", "m1")
    registry.change("challenger", "ana", "m2")
    registry.change("promote", "li")
    yield registry
    registry.close()


def test_an_untouched_trail_verifies(registry: Models) -> None:
    report = registry.verify()
    assert report.ok and report.records == 5
    champion, challenger = registered_scorers(registry)
    assert champion is not None and champion.name == "m2" and challenger is None


def test_a_swapped_model_file_is_found_and_not_served(shelf: Shelf, registry: Models) -> None:
    shelf.swap_model("m2", _model(7)[0])
    report = registry.verify()
    assert report.problem.startswith("record edited") and report.at == 2
    with pytest.raises(ConfigError, match="m2: its files changed"):
        registered_scorers(registry)


def test_an_edited_or_removed_change_breaks_the_chain(shelf: Shelf, registry: Models) -> None:
    shelf.edit_actor(5, "eve")
    assert registry.verify().problem == "chain broken" and registry.verify().at == 5
    shelf.edit_actor(5, "li")
    assert registry.verify().ok
    shelf.drop_change(3)  # the champion change
    report = registry.verify()
    assert report.problem in ("chain broken", "records deleted") and report.at == 3


def test_a_worker_on_another_machine_serves_the_same_models(
    shelf: Shelf, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if shelf.where is None:
        pytest.skip("a SQLite registry is one machine's folder")
    registry: Models = request.getfixturevalue("registry")
    other = shelf.open(tmp_path / "elsewhere" / "models")
    assert other.versions() == ["m1", "m2"] and other.standing() == registry.standing()
    champion, _ = registered_scorers(other)  # files copied from the database
    assert champion is not None and champion.name == "m2"
    local = other.path("m2") / "model.txt"
    local.write_text(_model(7)[0])  # a damaged local copy is copied again, not served
    assert other.check("m2") == local.parent and other.verify().ok
    revision = registry.revision()
    other.change("retire", "li")
    other.change("challenger", "li", "m1")
    assert registry.revision() == revision + 2 and registry.standing().challenger == "m1"
    other.close()
