"""The address table (data/addresses.yaml): variants that must and must not collide."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.desensitize.address import canonical_address
from shopguard.events import decode_event

TABLE = yaml.safe_load((Path(__file__).parent / "data" / "addresses.yaml").read_text())
SAME = [(group[0], variant) for group in TABLE["same"] for variant in group[1:]]
DIFFER = [tuple(row) for row in TABLE["differ"]]
KEYS = KeyRing({"k1": b"0123456789abcdef0123"}, "k1")


def test_the_table_is_large_enough() -> None:
    assert len(SAME) >= 25 and len(DIFFER) >= 20
    assert {b for *_, b in DIFFER} == {"same", "differ"}


@pytest.mark.parametrize(("first", "variant"), SAME)
def test_variants_of_one_address_collide(first: str, variant: str) -> None:
    assert canonical_address(variant) == canonical_address(first)


@pytest.mark.parametrize(("one", "other", "building"), DIFFER)
def test_other_dwellings_do_not(one: str, other: str, building: str) -> None:
    a, b = canonical_address(one), canonical_address(other)
    assert a.canonical != b.canonical
    assert (a.building == b.building) == (building == "same")


def _facts(address: str) -> dict[str, object]:
    event = decode_event(
        {"type": "account.login", "event_id": "e", "time": "2025-01-01T00:00:00Z", "tenant": "shop"}
        | {"address": address}
    )
    return Desensitizer(KEYS)(event)[0]


@pytest.mark.parametrize(("first", "variant"), SAME[:8] + SAME[-8:])
def test_the_pseudonyms_collide_and_a_typed_address_finds_them(first: str, variant: str) -> None:
    facts = _facts(variant)
    assert facts["address"] == _facts(first)["address"]
    assert facts["address_building"] == _facts(first)["address_building"]
    # what an operator types in a list or the console reaches the same pseudonyms
    desensitize = Desensitizer(KEYS)
    assert desensitize.entity("shop", "address", first) == facts["address"]
    assert desensitize.entity("shop", "address_building", first) == facts["address_building"]
    assert facts["address"] != facts["address_building"] or "|" not in canonical_address(first)[0]


def test_an_address_of_only_punctuation_is_still_a_key() -> None:
    assert canonical_address("!!!").canonical and canonical_address("---") != ("", "")
