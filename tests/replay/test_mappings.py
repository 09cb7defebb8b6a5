from __future__ import annotations

from itertools import islice
from pathlib import Path

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


def test_background_reader_matches_in_process(tmp_path: Path) -> None:
    from shopguard.replay.background import iter_events_in_background

    source = tmp_path / "pay.csv"
    source.write_text(
        "id,t,who,amt,bad\n1,2025-01-01 00:00:01,a,5.5,0\n2,2025-01-01 00:00:02,b,7,1\n"
    )
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "tenant: t\nlabels: [bad]\nevents:\n  - type: payment\n    event_id: 'p-{id}'\n"
        "    time: t\n    fields: {account: who, amount: {column: amt, type: float}}\n"
    )
    spec = load_mapping(str(mapping))
    local = [(decode_event(e), tags) for e, tags in iter_events(source, spec)]  # type: ignore[arg-type]
    remote = [(decode_event(e), tags) for e, tags in iter_events_in_background(source, spec)]
    assert local == remote and len(local) == 2 and remote[1][1] == {"bad": "1"}


def test_a_missing_column_is_one_clear_error(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from shopguard.cli import app

    source = tmp_path / "pay.csv"
    source.write_text("id,t\n1,2025-01-01 00:00:01\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "tenant: t\nevents:\n  - {type: payment, event_id: 'p-{id}', time: t, "
        "fields: {amount: {column: amt, type: float}}}\n"
    )
    result = CliRunner().invoke(app, ["replay", str(source), "--mapping", str(mapping)])
    assert result.exit_code == 2
    assert "payment field amount: no column 'amt' in the header; it has id, t" in result.stderr
