from __future__ import annotations

from itertools import islice

from shopguard.events import decode_event
from shopguard.replay import iter_events, load_mapping
from tests.conftest import shared_file


def test_fdh_rows_become_payments() -> None:
    source = shared_file("fdh", "transactions.csv.gz")
    pairs = list(islice(iter_events(source, load_mapping("fdh")), 1000))
    events = [decode_event(e) for e, _ in pairs]  # type: ignore[arg-type]
    assert {type(e).__struct_config__.tag for e in events} == {"payment"}
    assert events[0].account == "596" and events[0].amount == 57.16  # type: ignore[attr-defined]
    assert pairs[0][1] == {"TX_FRAUD": "0", "TX_FRAUD_SCENARIO": "0"}
    assert [e.time for e in events] == sorted(e.time for e in events)


def test_ecommerce_rows_become_signup_then_purchase_in_time_order() -> None:
    source = shared_file("ecommerce-fraud", "fraud_data_30k.csv")
    pairs = list(iter_events(source, load_mapping("ecommerce-fraud")))
    assert len(pairs) == 2 * 30_189
    events = [decode_event(e) for e, _ in pairs[:2000]]  # type: ignore[arg-type]
    assert [e.time for e in events] == sorted(e.time for e in events)
    first = pairs[0][0]
    assert "sex" not in first and "age" not in first
    assert first["ip"].count(".") == 3  # type: ignore[index, union-attr]
