"""Categories as native categorical features: a set where only the merchant carries the
signal is learned through it, the card holds the codes, a merchant never seen scores as
missing, and the compiled scorer agrees with LightGBM's batch predict."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import lightgbm
import numpy as np
import pyarrow as pa
import pytest

from shopguard.model.categories import category_names, encode, fit_encoding, text
from shopguard.model.dataset import inputs, matrix
from shopguard.model.gbm import GbmScorer
from shopguard.model.metrics import roc_auc
from shopguard.model.trainer import TrainOptions, train_table

RISKY = {"m3", "m7", "m11", "m13"}


def _table(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    merchant = [f"m{i}" for i in rng.integers(0, 20, rows)]
    risky = np.array([m in RISKY for m in merchant])
    label = (rng.random(rows) < np.where(risky, 0.5, 0.03)).astype(np.int64)
    return pa.table(
        {
            "event_id": [f"e{i}" for i in range(rows)],
            "type": ["payment"] * rows,
            "time": np.arange(rows, dtype=np.float64),
            "label": label,
            "amount": rng.normal(50, 10, rows),  # noise: no signal
            "merchant": merchant,
            "channel": ["web"] * rows,  # one value: constant
        }
    )


@pytest.fixture(scope="module")
def model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("categorical")
    text_, card = train_table(_table(6000, 1), TrainOptions(validation="random", min_rounds=20))
    (folder / "model.txt").write_text(text_)
    card.version = "m1"
    card.write(folder / "card.json")
    return folder


def test_only_the_category_carries_the_signal_and_the_model_learns_it(model: Path) -> None:
    card = GbmScorer(model).card
    assert card.features == ["amount", "merchant", "channel"]
    assert card.metrics["roc_auc"] > 0.8  # the merchant is everything there is to learn
    held = _table(4000, 2)
    booster = lightgbm.Booster(model_file=str(model / "model.txt"))
    score = booster.predict(matrix(held, card.features, card.categories))
    assert roc_auc(held.column("label").to_numpy().astype(float), score) > 0.8
    without = train_table(_table(6000, 1), TrainOptions(features=["amount"], min_rounds=20))
    assert without[1].metrics["roc_auc"] < 0.6  # the numbers alone know nothing


def test_the_card_holds_the_codes_most_frequent_first(model: Path) -> None:
    codes = GbmScorer(model).card.categories
    assert sorted(codes["merchant"]) == sorted(f"m{i}" for i in range(20))
    assert codes["channel"] == ["web"]
    assert fit_encoding(["b", "a", "b", None, "c", "c", "b"], limit=2) == ["b", "c"]
    assert np.isnan(encode(["a", None], ["b", "c"])).all()  # outside the codes: missing


def test_an_unseen_value_scores_as_missing(model: Path) -> None:
    scorer = GbmScorer(model)
    unseen = scorer.score({"amount": 50.0, "merchant": "m999", "channel": "web"})
    missing = scorer.score({"amount": 50.0, "channel": "web"})
    risky = scorer.score({"amount": 50.0, "merchant": "m3", "channel": "web"})
    assert unseen == missing and risky is not None and missing is not None
    assert risky > missing
    booster = lightgbm.Booster(model_file=str(model / "model.txt"))
    as_nan = booster.predict(np.array([[50.0, math.nan, 0.0]]))[0]  # channel "web" is code 0
    assert abs(unseen - as_nan) < 1e-12


def test_batch_predict_and_the_compiled_scorer_agree(model: Path) -> None:
    scorer = GbmScorer(model)
    held = _table(500, 3).to_pylist()
    held[0]["merchant"] = "new-merchant"
    held[1]["merchant"] = None
    table = pa.Table.from_pylist(held)
    booster = lightgbm.Booster(model_file=str(model / "model.txt"))
    batch = booster.predict(matrix(table, scorer.card.features, scorer.card.categories))
    one_by_one = [scorer.score(row) for row in held]
    assert max(abs(a - b) for a, b in zip(batch, one_by_one, strict=True)) < 1e-12  # type: ignore[operator]


def test_text_columns_are_inputs_and_category_attributes_are_read_from_the_pack() -> None:
    assert inputs(_table(10, 1)) == ["amount", "merchant", "channel"]
    spec = SimpleNamespace
    pack = spec(
        attributes={
            "lane": spec(type="category", personal=False),
            "loyalty_tier": spec(type="category", personal=True),  # a pseudonym: no
            "trust_level": spec(type="number", personal=False),
        }
    )
    assert category_names(pack)[-1:] == ("lane",)
    assert "loyalty_tier" not in category_names(pack) and "trust_level" not in category_names(pack)
    assert category_names(object()) == ("channel", "merchant", "campaign", "device_os", "type")
    assert [text(v) for v in (3, 3.0, 2.5, True, "x", None)] == ["3", "3", "2.5", "true", "x", None]
    assert math.isnan(matrix(pa.table({"c": ["zz"]}), ["c"], {"c": ["a"]})[0, 0])
