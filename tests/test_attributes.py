"""Declaring custom attributes (shopguard.attributes, a pack's attributes.yaml): every
mistake is refused at load, naming the file and the attribute."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError

PACK = Path(__file__).parent / "scenarios" / "packs" / "selfcheckout"
ONE = "attributes:\n  - {name: trust_level, type: number, min: 0, max: 5}\n"


def _load(attributes: str, features: str = "") -> object:
    texts = {"pack.yaml": "name: t\nextends: starter\n", "attributes.yaml": attributes}
    if features:
        texts["features.yaml"] = features
    return load_pack("t", texts=texts)


def test_the_selfcheckout_pack_declares_its_attributes() -> None:
    pack = load_pack(PACK)
    spec = pack.attributes["trust_level"]
    assert (spec.name, spec.type, spec.personal) == ("trust_level", "number", False)
    assert spec.on == frozenset({"order.create", "payment"})
    assert (
        pack.attributes["loyalty_id"].personal and pack.attributes["loyalty_id"].on == frozenset()
    )
    assert pack.schema["trust_level"] == "num" and pack.schema["audited"] == "bool"
    assert pack.schema["lane_type"] == "str"
    assert pack.attribute_keys == {"lane_type", "loyalty_id"}


def test_a_pack_without_attributes_declares_none() -> None:
    assert load_pack("retail").attributes == {}


def test_an_extending_pack_adds_to_and_replaces_its_base_attributes(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text(f"name: store-7\nextends: {PACK}\n")
    (tmp_path / "attributes.yaml").write_text(
        "attributes:\n  - {name: trust_level, type: number, min: 0, max: 10}\n"
        "  - {name: basket_weight_g, type: number, min: 0}\n"
    )
    pack = load_pack(tmp_path)
    assert pack.attributes["trust_level"].max == 10
    assert {"basket_weight_g", "loyalty_id"} <= set(pack.attributes)


@pytest.mark.parametrize(
    ("declared", "message"),
    [
        ("- {name: amount, type: number}", "built-in fact"),
        ("- {name: items, type: number}", "built-in fact, event field"),
        ("- {name: ring_score, type: number}", "built-in"),
        ("- {name: score, type: number}", "built-in"),
        ("- {name: Trust, type: number}", "lower_snake_case"),
        ("- {name: trust, type: decimal}", "Invalid enum value 'decimal'"),
        ("- {name: trust, type: number, on: [checkout]}", "unknown event types"),
        ("- {name: trust, type: number, min: 5, max: 1}", "min 5 is above max 1"),
        ("- {name: trust, type: number, max_length: 3}", "max_length bounds"),
        ("- {name: trust, type: text, max_length: 9999}", "max_length must be from 1 to 512"),
        ("- {name: trust, type: id, values: [a]}", "values lists a category"),
        ("- {name: trust, type: category, values: []}", "at least one value"),
        ("- {name: trust, type: category, min: 1}", "min and max bound a number only"),
        ("- {name: age, type: number, personal: true}", "cannot be pseudonymized"),
        ("- {name: vip, type: flag, personal: true}", "cannot be pseudonymized"),
        ("- {name: trust, type: number, bounds: 3}", "unknown field `bounds`"),
    ],
)
def test_a_bad_declaration_names_the_file_and_the_attribute(declared: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        _load(f"attributes:\n  {declared}\n")
    text = str(refused.value)
    assert text.startswith("attributes.yaml: attribute "), text
    assert message in text


def test_an_attribute_declared_twice_or_a_file_without_a_list_names_the_file() -> None:
    twice = "attributes:\n  - {name: t, type: flag}\n  - {name: t, type: number}\n"
    rules = "rules:\n  - {id: r, on: [payment], when: t, action: review, score: 1, reason: x}\n"
    with pytest.raises(ConfigError, match=r"attributes\.yaml: attribute t: defined twice"):
        load_pack("own", texts={"attributes.yaml": twice, "rules.yaml": rules})
    with pytest.raises(
        ConfigError, match=r"attributes.yaml: unknown top-level keys \['trust_level'\]"
    ):
        _load("trust_level: number\n")


def test_an_attribute_named_as_a_feature_is_refused() -> None:
    features = (
        "features:\n  - {name: trust_level, kind: count, key: [account], on: [payment], "
        "window: 1h}\n"
    )
    with pytest.raises(ConfigError, match="attribute trust_level: the name of a built-in"):
        _load(ONE, features)


def test_a_feature_reading_an_undeclared_attribute_is_refused() -> None:
    features = (
        "features:\n  - {name: voids_1h, kind: sum, key: [account], on: [payment], "
        "field: voided_items, window: 1h}\n"
    )
    with pytest.raises(ConfigError, match="voids_1h: field 'voided_items' is not a numeric"):
        _load(ONE, features)


def test_a_feature_keyed_by_a_number_attribute_is_refused() -> None:
    features = (
        "features:\n  - {name: by_trust_1h, kind: count, key: [trust_level], on: [payment], "
        "window: 1h}\n"
    )
    with pytest.raises(ConfigError, match="unknown key entity 'trust_level'"):
        _load(ONE, features)
