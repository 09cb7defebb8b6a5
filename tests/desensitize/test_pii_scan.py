"""Replay PII-laden events and scan every byte the engine persisted or logged: the raw
values, and what the link signals are derived from (the phone's block digits, the
canonical address and its road, the e-mail local part and its shape, the device model,
the /16): each of those may only ever be stored as a pseudonym."""

from __future__ import annotations

import csv
import logging
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.desensitize.address import canonical_address
from shopguard.desensitize.email import parse_email
from shopguard.desensitize.network import parse_ip
from shopguard.desensitize.phone import parse_phone, phone_block
from shopguard.events import decode_event
from tests.conftest import TEST_KEYS, shared_file

# Real model names (a farm buys one in bulk), given to the registrations' devices.
MODELS = (("SM-G9910", "android"), ("iPhone15,2", "ios"), ("Redmi Note 12", "android"))
SIGNALS = ("phone_block", "address", "address_building", "email_pattern", "device_model", "ip16")


def _fragments(event: dict[str, Any]) -> list[str]:
    """The derived values behind each link signal, as they are before pseudonymizing."""
    out = []
    if "phone" in event:
        phone = parse_phone(event["phone"])
        if phone.e164 is not None:  # some numbers here have extensions: no block then
            out += [phone.e164, phone_block(phone.e164, 2), phone.e164[:-2]]
    if "address" in event:
        address = canonical_address(event["address"])
        road = " ".join(w for w in address.building.split() if not w.isdigit())
        out += [address.canonical, address.building, road]
    if "email" in event:
        email = parse_email(event["email"])
        out += [email.pattern, email.identity.split("@")[0]]
    if "ip" in event:
        out.append(parse_ip(event["ip"]).network)
    model = event.get("device", {}).get("model")
    if model is not None:
        out += [model, model.lower(), f"{model.lower()}|{event['device']['os']}"]
    return out


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
                "device": {
                    "id": row["user_agent"][:120],
                    "model": MODELS[i % 3][0],
                    "os": MODELS[i % 3][1],
                },
            }
            raws = [
                row["email_address"],
                row["ip_address"],
                row["phone_number"],
                row["billing_address"],
                *_fragments(event),
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
                *_fragments(event),
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
    derived = [engine.desensitize(decode_event(event))[0] for event, _ in events]
    for signal in SIGNALS:  # every link signal is really in the facts scanned below
        assert sum(signal in facts for facts in derived) >= 2_000, signal
    for i, (event, _) in enumerate(events):
        if i % 3 == 0:
            engine.decide(event)
        else:
            engine.decide_many([event])
    engine.list_add("deny", "phone", events[0][0]["phone"], tenant="aws", reason="test")
    engine.list_add("deny", "address", events[0][0]["address"], tenant="aws", reason="test")
    engine.list_add("deny", "phone_block", events[1][0]["phone"], tenant="aws", reason="test")
    engine.list_add("watch", "address_building", events[2][0]["address"], tenant="aws")
    engine.list_add("watch", "email_pattern", events[3][0]["email"], tenant="aws")
    engine.list_add("watch", "device_model", "SM-G9910|android", tenant="aws")
    engine.list_add("watch", "ip16", events[4][0]["ip"], tenant="aws")
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
    # (The derived values are scanned as derived, in lower case: a clear e-mail domain may
    # hold a shopper's first name in any case, by design.)
    leaks = sorted(raw for raw in raws if raw.encode() in persisted or raw.encode() in logged)
    assert leaks == [], f"{len(leaks)} raw values found, e.g. {leaks[:5]}"


SELFCHECKOUT = Path(__file__).parents[1] / "scenarios" / "packs" / "selfcheckout"


def test_personal_attributes_never_reach_disk_or_logs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    """A pack's personal attributes (a loyalty card number, an attendant's free text) are
    pseudonymized like the built-in entities: scanned for in the journal, the snapshot
    and every log line, raw and normalized (the text's pseudonym is of its folded form)."""
    from shopguard.config import load_pack

    caplog.set_level(logging.DEBUG)
    data = tmp_path / "data"
    engine = Engine.from_config(
        load_pack(SELFCHECKOUT),
        decision_log="sqlite",
        data_dir=str(data),
        keys=TEST_KEYS,
        active_key="k1",
        snapshot_every=7,
    )
    raws: list[str] = []
    for i in range(40):
        card, note = f"LOY-4417-{i % 5:04d}", f"Shopper Margarethe Quill-{i} Argued At Lane"
        raws += [card, note, note.casefold()]
        payment = {
            "type": "payment",
            "event_id": f"sco-{i}",
            "tenant": "shop",
            "time": f"2025-03-01T10:{i:02d}:00Z",
            "account": f"acct-{i}",
            "terminal": "lane-1",
            "amount": 20.0,
            "attributes": {"loyalty_id": card, "attendant_note": note, "trust_level": 1},
        }
        decision = engine.decide(payment) if i % 2 else engine.decide_many([payment])[0]
        assert decision.display["loyalty_id"] == "LO***"
    facts, _ = engine.desensitize(decode_event({**payment, "event_id": "x"}))
    assert facts["loyalty_id"].startswith("k1.") and facts["attendant_note"].startswith("k1.")
    assert facts["trust_level"] == 1  # not personal: in clear
    # the pseudonym is a key: the fifth account on one card is seen
    assert "SCO_SHARED_LOYALTY" in {r.code for r in decision.reasons}
    engine.close()
    with sqlite3.connect(data / "decisions.db") as db:  # the snapshot holds the card's state
        assert db.execute("SELECT count(*) FROM snapshot").fetchone()[0] > 0
    persisted = b"".join(p.read_bytes() for p in sorted(data.rglob("*")) if p.is_file())
    captured = capsys.readouterr()
    logged = (caplog.text + captured.out + captured.err).encode()
    assert len(persisted) > 10_000
    leaks = sorted({r for r in raws if r.encode() in persisted or r.encode() in logged})
    assert leaks == [], f"{len(leaks)} raw values found, e.g. {leaks[:5]}"
    assert b"Margarethe" not in persisted and b"margarethe" not in persisted
