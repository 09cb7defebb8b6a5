"""Custom attributes reach the model as the rules see them: a training row (built from the
decision's explain scope) holds each numeric and flag attribute, and each declared
category attribute as its text (a native categorical feature); personal ones (their
pseudonyms) and text never become model inputs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopguard.config import load_pack
from shopguard.model import dataset
from shopguard.model.gbm import GbmScorer
from shopguard.model.trainer import TrainOptions, train_table
from tests.conftest import event, make_engine

PACK = load_pack(Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout")


def _payment(i: int, **attributes: Any) -> dict[str, Any]:
    return event(
        "payment",
        f"p{i}",
        i * 60.0,
        account=f"a{i % 2}",
        terminal="lane-1",
        amount=9.0,
        attributes=attributes,
    )


def test_numeric_and_flag_attributes_land_in_training_rows() -> None:
    engine = make_engine(pack=PACK, explain=True)
    labelled = [
        (_payment(0, trust_level=1, voided_items=3, audited=True, loyalty_id="LOY-1"), 1),
        (_payment(1, trust_level=4.5, audited=False, attendant_note="Mr Smith"), 0),
        (_payment(2), 0),  # none sent: missing, not zero
    ]
    table = dataset.build(engine, labelled).to_pydict()
    assert table["trust_level"] == [1.0, 4.5, None]
    assert table["voided_items"] == [3.0, None, None]
    assert table["audited"] == [1.0, 0.0, None]
    assert table["voided_items_24h"] == [0.0, 0.0, 3.0]  # the feature over it, too
    for hidden in ("loyalty_id", "attendant_note"):
        assert hidden not in table
    inputs = dataset.inputs(dataset.build(make_engine(pack=PACK, explain=True), labelled))
    assert {"trust_level", "voided_items", "audited"} <= set(inputs)


def test_a_category_attribute_is_learned_and_scored_by_the_engine(tmp_path: Path) -> None:
    # Only the lane carries the signal: scan-and-go lanes lose goods, staffed ones never.
    lanes = ["self_checkout", "staffed", "scan_and_go"]
    labelled = [
        (_payment(i, lane_type=lanes[i % 3]), int(i % 3 == 2 and i % 2 == 0)) for i in range(600)
    ]
    table = dataset.build(make_engine(pack=PACK, explain=True), labelled)
    assert table.column("lane_type").to_pylist()[:3] == lanes
    assert "lane_type" in dataset.inputs(table)
    text, card = train_table(
        table, TrainOptions(features=["lane_type", "amount"], validation="random", min_rounds=5)
    )
    assert sorted(card.categories["lane_type"]) == sorted(lanes)
    (tmp_path / "model.txt").write_text(text)
    card.version = "m1"
    card.write(tmp_path / "card.json")
    engine = make_engine(pack=PACK, explain=True, scorer=GbmScorer(tmp_path))
    scores = {
        lane: engine.decide(_payment(1000 + i, lane_type=lane)).model_score
        for i, lane in enumerate(lanes)
    }
    assert scores["scan_and_go"] > max(scores["staffed"], scores["self_checkout"])
