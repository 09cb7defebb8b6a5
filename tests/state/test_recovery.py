"""Recovery paths beyond kill -9: changed features, dedupe expiry, list survival."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import msgspec

from shopguard import Engine
from shopguard.config import load_pack
from tests.conftest import TEST_KEYS, event


def _engine(data_dir: Path, **overrides: object) -> Engine:
    return Engine.from_config(data_dir=str(data_dir), keys=TEST_KEYS, **overrides)


def test_changed_features_refold_the_whole_journal(tmp_path: Path) -> None:
    first = _engine(tmp_path)
    for i in range(3):  # three: one short of the starter pack's device-farm rule
        first.decide(event("account.register", f"r{i}", i, account=f"a{i}", device={"id": "d"}))
    first.close()  # writes a snapshot for the starter features
    texts = {
        "rules.yaml": "rules:\n  - {id: seen_device, on: [account.register], "
        "when: 'device_total >= 3', action: review, reason: r}\n",
        "features.yaml": "features:\n  - {name: device_total, kind: count, key: [device], "
        "on: [account.register], window: 90d}\n",
    }
    changed = _engine(tmp_path, pack=load_pack("inline", texts))
    decision = changed.decide(event("account.register", "r9", 10, account="z", device={"id": "d"}))
    assert [r.code for r in decision.reasons] == ["SEEN_DEVICE"]  # rebuilt from the journal
    changed.close()


def test_resends_after_the_dedupe_window_are_new_events() -> None:
    from tests.conftest import make_engine

    engine = make_engine(dedupe_window="1h", explain=True)
    first = engine.decide(event("account.register", "same", 0, account="a", device={"id": "d"}))
    engine.decide(event("account.register", "other", 7200, account="b", device={"id": "d"}))
    again = engine.decide(event("account.register", "same", 7300, account="c", device={"id": "d"}))
    assert first.features["device_accounts_24h"] == 0
    assert again.features["device_accounts_24h"] == 2  # decided afresh, not replayed


def test_list_entries_survive_a_clean_restart(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    engine.list_add("deny", "phone", "13812345678", tenant="shop", ttl="30d", reason="fraud")
    engine.list_add("watch", "device", "dev-1", tenant="shop")
    assert engine.list_remove("watch", "device", "dev-1", tenant="shop", raw=True)
    engine.close()
    restarted = _engine(tmp_path)
    assert [(e.list, e.kind, e.reason) for e in restarted.lists.entries()] == [
        ("deny", "phone", "fraud")
    ]
    decision = restarted.decide(event("sms.send", "s1", phone="138 1234 5678"))
    assert decision.outcome == "deny"
    restarted.close()


def test_pack_list_entries_are_loaded(tmp_path: Path) -> None:
    texts = {
        "rules.yaml": "rules: []\n",
        "lists.yaml": "lists:\n  - {list: deny, kind: coupon, value: LEAKED-100, "
        "reason: leaked staff coupon}\n",
    }
    engine = _engine(tmp_path, pack=load_pack("inline", texts))
    decision = engine.decide(event("promo.claim", "c1", campaign="x", coupon="LEAKED-100"))
    assert decision.outcome == "deny" and "leaked staff coupon" in decision.reasons[0].reason
    engine.close()


def test_the_snapshot_fingerprint_covers_every_feature(tmp_path: Path) -> None:
    """A change to the last of many features still refuses the old snapshot."""
    pack = load_pack("retail")
    last = pack.features[-1]
    edited = msgspec.structs.replace(last, description=last.description + " (edited)")
    other = dataclasses.replace(pack, features=[*pack.features[:-1], edited])
    fingerprint = _engine(tmp_path / "a", pack=pack)._fingerprint
    assert len(msgspec.json.encode(pack.features)) > 4096
    assert _engine(tmp_path / "b", pack=other)._fingerprint != fingerprint
    assert _engine(tmp_path / "c", pack=pack)._fingerprint == fingerprint
