from __future__ import annotations

from shopguard.config import load_pack
from shopguard.events import decode_event
from shopguard.events.catalog import CabinetSession


def _session(**fields: object) -> CabinetSession:
    event = decode_event(
        {
            "type": "cabinet.session",
            "event_id": "s",
            "tenant": "t",
            "time": "2025-01-01T00:00:00Z",
            "cabinet": "c",
            "session_id": "s1",
            **fields,
        }
    )
    assert isinstance(event, CabinetSession)
    return event


def test_reconciliation_prices_unbilled_tags_and_weight() -> None:
    catalog = load_pack("starter").catalog
    assert catalog is not None
    facts = catalog.reconcile(
        _session(
            billed=[{"sku": "cola-330", "quantity": 1}],
            rfid_missing=["cola-330:1", "beer-500:2", "bare-tag"],
            shelves=[{"shelf": 1, "weight_delta_g": 345 + 520 + 150}],
        )
    )
    assert facts["expected_weight_g"] == 345
    assert facts["rfid_unbilled"] == 2 and facts["unknown_skus"] == 0
    # beer (8.0) + a bare tag at the median tagged price (4.5) + 150 g of loose goods
    # left after the beer's 520 g: 150 / 75 g x 7.5 = 15.0
    assert facts["weight_gap_g"] == 670
    assert facts["unbilled_value"] == 27.5


def test_no_shelves_means_no_weight_gap() -> None:
    catalog = load_pack("starter").catalog
    assert catalog is not None
    facts = catalog.reconcile(_session(billed=[{"sku": "gum"}]))
    assert facts["weight_gap_g"] is None and facts["unbilled_value"] == 0


def test_unknown_skus_are_assumed_to_explain_a_tag() -> None:
    catalog = load_pack("starter").catalog
    assert catalog is not None
    facts = catalog.reconcile(_session(billed=[{"sku": "new-product"}], rfid_missing=["x"]))
    assert facts["unknown_skus"] == 1 and facts["rfid_unbilled"] == 0


def test_scale_noise_under_half_a_loose_item_is_not_goods() -> None:
    catalog = load_pack("starter").catalog
    assert catalog is not None
    billed = [{"sku": "cola-330", "quantity": 3}]
    for noise in (-12.0, 0.0, 9.5, 30.0):  # the smallest loose item weighs 75 g: 30 g is noise
        facts = catalog.reconcile(
            _session(billed=billed, shelves=[{"shelf": 1, "weight_delta_g": 3 * 345 + noise}])
        )
        assert facts["unbilled_value"] == 0 and facts["amount_owed"] == 0, noise


def test_amount_owed_is_the_unpaid_bill_plus_unbilled_goods() -> None:
    catalog = load_pack("starter").catalog
    assert catalog is not None
    paid_short = _session(
        billed=[{"sku": "cola-330", "price": 4.5}],
        rfid_missing=["cola-330:1", "cola-330:2"],
        amount=4.5,
        paid=True,
    )
    assert catalog.reconcile(paid_short)["amount_owed"] == 4.5  # the tag nobody paid for
    unpaid = _session(billed=[{"sku": "cola-330", "price": 4.5}], amount=4.5, paid=False)
    assert catalog.reconcile(unpaid)["amount_owed"] == 4.5


def test_without_a_catalog_only_the_unpaid_bill_is_owed() -> None:
    from shopguard.desensitize.desensitizer import Desensitizer
    from shopguard.desensitize.keys import KeyRing

    desensitizer = Desensitizer(KeyRing.from_settings({"k1": "x" * 32}, "k1"))
    facts, _ = desensitizer(_session(amount=9.0, paid=False))
    assert facts["amount_owed"] == 9.0 and "unbilled_value" not in facts
