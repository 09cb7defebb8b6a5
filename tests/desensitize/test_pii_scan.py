"""Replay PII-laden events and scan every byte the engine persisted or logged."""

from __future__ import annotations

import csv
import logging
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from tests.conftest import TEST_KEYS, shared_file


def _registrations(path: Path) -> list[tuple[dict[str, Any], list[str]]]:
    out = []
    with path.open(newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            event = {
                "type": "account.register",
                "event_id": f"reg-{i}",
                "tenant": "aws",
                "time": row["EVENT_TIMESTAMP"],
                "account": row["email_address"],
                "email": row["email_address"],
                "ip": row["ip_address"],
                "phone": row["phone_number"],
                "address": row["billing_address"],
                "user_agent": row["user_agent"],
                "device": {"id": row["user_agent"][:120]},
            }
            raws = [
                row["email_address"],
                row["ip_address"],
                row["phone_number"],
                row["billing_address"],
            ]
            out.append((event, raws))
    return out


def _payments(path: Path) -> list[tuple[dict[str, Any], list[str]]]:
    out = []
    with path.open(newline="") as handle:
        for i, row in enumerate(csv.DictReader(handle)):
            street = f"{row['billing_street']}, {row['billing_city']}"
            event = {
                "type": "payment",
                "event_id": f"tx-{i}",
                "tenant": "aws",
                "time": row["EVENT_TIMESTAMP"],
                "account": row["ENTITY_ID"],
                "email": row["customer_email"],
                "ip": row["ip_address"],
                "phone": row["billing_phone"],
                "address": street,
                "amount": float(row["order_price"]),
                "merchant": row["merchant"][:120],
                "card": row["card_bin"] + "0000001234",
                "profile": {"name": row["customer_name"]},
            }
            raws = [
                row["customer_email"],
                row["ip_address"],
                row["billing_phone"],
                row["billing_street"],
                row["ENTITY_ID"],
                row["customer_name"],
            ]
            out.append((event, raws))
    return out


def test_nothing_raw_reaches_disk_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    events = _registrations(shared_file("aws-registration", "registration_2k.csv"))
    events += _payments(shared_file("aws-registration", "transactions_2k.csv"))
    caplog.set_level(logging.DEBUG)
    engine = Engine.from_config(data_dir=str(tmp_path), keys=TEST_KEYS, active_key="k1")
    for i, (event, _) in enumerate(events):
        if i % 3 == 0:
            engine.decide(event)
        else:
            engine.decide_many([event])
    engine.list_add("deny", "phone", events[0][0]["phone"], tenant="aws", reason="test")
    engine.close()
    persisted = b"".join(
        p.read_bytes() for p in sorted(tmp_path.rglob("*")) if p.is_file() and p.name != "keys.yaml"
    )
    captured = capsys.readouterr()
    logged = (caplog.text + captured.out + captured.err).encode()
    assert len(persisted) > 100_000  # the journal really holds the decisions
    raws = {raw.strip() for _, values in events for raw in values if len(raw.strip()) >= 6}
    # Merchants are businesses, kept in clear by design; some of their names contain a
    # first name ("Roberts, Daniel and Macejkovic"), which is then not a leak of a shopper.
    merchants = " ".join(str(e.get("merchant", "")) for e, _ in events)
    raws = {raw for raw in raws if raw not in merchants}
    assert len(raws) > 5_000
    leaks = sorted(raw for raw in raws if raw.encode() in persisted or raw.encode() in logged)
    assert leaks == [], f"{len(leaks)} raw values found, e.g. {leaks[:5]}"
