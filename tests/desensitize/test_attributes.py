"""Custom attributes at desensitize: a personal one becomes a tenant-keyed pseudonym with
a display mask, the others are copied as they are, an undeclared one never gets in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopguard.config import load_pack
from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.events import decode_event
from tests.conftest import TEST_KEYS, event

PACK = load_pack(Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout")
KEYS = KeyRing.from_settings(TEST_KEYS, "k1")


def _facts(tenant: str = "shop", **attributes: Any) -> tuple[dict[str, Any], dict[str, str]]:
    desensitize = Desensitizer(KEYS, attributes=PACK.attributes)
    payment = event("payment", "p1", account="u1", amount=5.0, attributes=attributes)
    return desensitize(decode_event({**payment, "tenant": tenant}))


def test_personal_attributes_become_tenant_keyed_pseudonyms() -> None:
    facts, display = _facts(loyalty_id="LOY-88120001", attendant_note="Asked for Mr Smith")
    expected = KEYS.pseudonym("shop", "attribute.loyalty_id", "LOY-88120001")
    assert facts["loyalty_id"] == expected
    assert facts["attendant_note"] == KEYS.pseudonym(
        "shop", "attribute.attendant_note", "asked for mr smith"
    )
    assert display == {"loyalty_id": "LO***", "attendant_note": "As***"}
    rival, _ = _facts("rival", loyalty_id="LOY-88120001")
    assert rival["loyalty_id"] != expected  # another tenant cannot join on it
    assert "attributes" not in facts  # the raw object is never copied into the facts


def test_a_personal_text_is_one_pseudonym_whatever_its_case_and_spacing() -> None:
    a, _ = _facts(attendant_note="Asked for  Mr Smith ")
    b, _ = _facts(attendant_note="asked for mr SMITH")
    assert a["attendant_note"] == b["attendant_note"]
    c, _ = _facts(loyalty_id="loy-88120001")  # an id is exact: case may matter
    assert c["loyalty_id"] != _facts(loyalty_id="LOY-88120001")[0]["loyalty_id"]


def test_a_short_personal_value_is_masked_whole() -> None:
    _, display = _facts(loyalty_id="L7")
    assert display["loyalty_id"] == "***"


def test_other_attributes_are_copied_and_absent_ones_are_absent() -> None:
    facts, display = _facts(trust_level=2, audited=True, lane_type="self_checkout")
    assert (facts["trust_level"], facts["audited"], facts["lane_type"]) == (
        2,
        True,
        "self_checkout",
    )
    assert "voided_items" not in facts and display == {}


def test_an_undeclared_attribute_is_dropped_when_desensitize_runs_unchecked() -> None:
    facts, _ = _facts(shopper_name="Jane Doe", trust_level=1)
    assert "shopper_name" not in facts and "Jane Doe" not in map(str, facts.values())
    plain = Desensitizer(KEYS)  # a pack declaring nothing
    facts, _ = plain(decode_event(event("payment", "p", amount=1.0, attributes={"x": "y"})))
    assert "x" not in facts
