"""Train a tiny model from a replayed dataset, register it, serve it in decide, run a
challenger in shadow and promote it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from shopguard import Engine
from shopguard.errors import ConfigError
from shopguard.model.dataset import build
from shopguard.model.gbm import GbmScorer
from shopguard.model.registry import ModelRegistry, registered_scorers
from shopguard.model.train import fit
from shopguard.simulate import simulate
from tests.conftest import TEST_KEYS

LEARNED = ["amount", "account_payments_30d", "account_amount_mean_30d", "card_accounts_24h", "hour"]


def _engine(tmp: Path, **settings: object) -> Engine:
    return Engine.from_config(
        pack="retail", keys=TEST_KEYS, decision_log="memory", data_dir=str(tmp), **settings
    )


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[bytes]]:
    tmp = tmp_path_factory.mktemp("models")
    stream = list(simulate(30_000, seed=3))
    events = [raw for raw, _ in stream]
    labelled = [(raw, t.label) for raw, t in stream]
    table = build(_engine(tmp, explain=True), labelled, types={"payment"})
    assert table.num_rows > 500 and set(LEARNED) <= set(table.column_names)
    x = np.column_stack([table.column(n).to_numpy(zero_copy_only=False) for n in LEARNED])
    y = table.column("label").to_numpy().astype(float)
    when = table.column("time").to_numpy()
    registry = ModelRegistry(tmp / "models")
    for leaves in (7, 15):
        text, card = fit(x.astype(float), y, when, LEARNED, "attack", params={"num_leaves": leaves})
        card.event_types = ["payment"]  # what `shopguard train` records from the set
        registry.register(text, card, "test")
    return tmp, events


def test_a_registered_champion_scores_and_a_challenger_shadows(
    trained: tuple[Path, list[bytes]],
) -> None:
    tmp, events = trained
    registry = ModelRegistry(tmp / "models")
    assert registry.versions() == ["m1", "m2"]
    card = registry.card("m1")
    assert card.features == LEARNED and 0.5 < card.metrics["roc_auc"] <= 1.0
    assert card.thresholds and card.rows["valid_positive"] > 0

    registry.change("champion", "test", "m1")
    registry.change("challenger", "test", "m2")
    engine = _engine(tmp, model="registry")
    assert engine.scorer.name == "m1" and engine.challenger_scorer is not None
    payments = [e for e in events if b'"type":"payment"' in e][:200]
    decisions = [engine.decide(e) for e in payments]
    assert all(d.model_score is not None and 0 <= d.model_score <= 1 for d in decisions)
    assert all(d.challenger_score is not None for d in decisions)
    shadow = {d.event_id: d.challenger_score for d in decisions}
    # a payment model scores payments only; other types neither read its features nor score
    others = [engine.decide(e) for e in events if b'"type":"payment"' not in e][:200]
    assert others and all(d.model_score is None and d.challenger_score is None for d in others)
    read = {t: {f.name for u in engine.plans[t].uses for f in u.readers} for t in engine.plans}
    assert "account_amount_mean_30d" in read["payment"]
    assert "account_amount_mean_30d" not in read["sms.send"]

    standing = registry.change("promote", "test")
    assert (standing.champion, standing.challenger) == ("m2", None)
    replayed = _engine(tmp, model="registry")
    again = [replayed.decide(e) for e in payments]
    assert {d.event_id: d.model_score for d in again} == pytest.approx(shadow)
    assert all(d.challenger_score is None for d in again)


def test_a_model_reading_what_the_engine_lacks_fails_at_load(
    trained: tuple[Path, list[bytes]],
) -> None:
    tmp, _ = trained
    scorer = GbmScorer(ModelRegistry(tmp / "models").path("m1"))
    scorer.features = ("amount", "no_such_feature")
    with pytest.raises(ConfigError, match="no_such_feature"):
        _engine(tmp).use_models(scorer)


def test_the_registry_reads_back_what_it_wrote(trained: tuple[Path, list[bytes]]) -> None:
    tmp, _ = trained
    champion, _ = registered_scorers(tmp / "models")
    assert champion is not None and champion.features == tuple(LEARNED)
