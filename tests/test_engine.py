from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError, InvalidEvent
from tests.conftest import event, make_engine


def test_a_resent_event_is_counted_once_and_answered_the_same() -> None:
    engine = make_engine(explain=True)
    first = engine.decide(event("account.register", "r1", account="a1", device={"id": "d"}))
    again = engine.decide(event("account.register", "r1", account="a1", device={"id": "d"}))
    assert again == first
    later = engine.decide(event("account.register", "r2", 5, account="a2", device={"id": "d"}))
    assert later.features["device_accounts_24h"] == 1  # not 2: the resend was not applied


def test_a_bad_event_in_a_batch_applies_nothing() -> None:
    engine = make_engine(explain=True)
    good = event("account.register", "r1", account="a1", device={"id": "d"})
    bad = event("payment", "p1", amount="lots")
    with pytest.raises(InvalidEvent) as caught:
        engine.decide_many([good, bad])
    assert caught.value.path == "$[1].amount"
    later = engine.decide(event("account.register", "r2", 5, account="a2", device={"id": "d"}))
    assert later.features["device_accounts_24h"] == 0


def test_decision_carries_reasons_versions_latency_and_masks() -> None:
    engine = make_engine()
    decision = engine.decide(
        event(
            "account.register",
            "r1",
            account="a1",
            phone="17012345678",
            device={"id": "e", "emulator": True},
        )
    )
    assert decision.outcome == "challenge" and decision.challenge == "captcha"
    assert {r.code for r in decision.reasons} == {"REG_TAMPERED_DEVICE", "REG_VIRTUAL_PHONE"}
    assert decision.score == 70
    assert decision.ruleset_version.startswith("starter-1+")
    assert decision.engine_version and decision.latency_us >= 0
    assert decision.display["phone"] == "170****5678"
    assert decision.features == {
        "device_emulator": True,
        "device_hooked": False,
        "device_rooted": False,
        "phone_virtual": True,
    }


def test_shadow_rules_are_recorded_but_never_enforced() -> None:
    engine = make_engine()
    for i in range(6):
        decision = engine.decide(
            event("sms.send", f"s{i}", i * 700.0, ip="9.9.9.9", phone=f"1380000000{i}")
        )
    assert decision.outcome == "allow"
    assert [r.code for r in decision.shadow] == ["SMS_CODES_NEVER_USED"]


def test_simulation_mode_allows_and_records_what_would_happen(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("extends: starter\n")
    (tmp_path / "policy.yaml").write_text("policy: {mode: simulate}\n")
    engine = make_engine(pack=str(tmp_path))
    decision = engine.decide(event("account.register", "r1", account="b", user_agent="curl/8"))
    assert decision.outcome == "allow" and decision.simulated_outcome == "deny"
    assert decision.reasons[0].code == "BOT_USER_AGENT"


def test_a_pack_extends_another_adding_and_replacing_items(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("extends: starter\n")
    (tmp_path / "rules.yaml").write_text(
        "version: mine-1\nrules:\n"
        "  - {id: bot_user_agent, on: [account.register], when: 'ua_bot', action: review,"
        " reason: softer}\n"
        "  - {id: big_refund, on: [refund], when: 'amount > 1000', action: review, reason: r}\n"
    )
    pack = load_pack(str(tmp_path))
    starter = load_pack("starter")
    assert len(pack.rules.rules) == len(starter.rules.rules) + 1
    replaced = next(r for r in pack.rules.rules if r.id == "bot_user_agent")
    assert str(replaced.action) == "review"
    assert pack.rules.version.startswith("mine-1+")
    assert len(pack.features) == len(starter.features)


def test_packs_extending_in_a_loop_fail(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "pack.yaml").write_text(f"extends: {tmp_path / 'b'}\n")
    (tmp_path / "b" / "pack.yaml").write_text(f"extends: {tmp_path / 'a'}\n")
    with pytest.raises(ConfigError, match="loop"):
        load_pack(str(tmp_path / "a"))


def test_score_thresholds_combine_weak_signals() -> None:
    engine = make_engine()
    decision = engine.decide(
        event(
            "account.register",
            "r1",
            account="x",
            phone="17012345678",
            email="x@mailinator.com",
            device={"id": "e", "rooted": True},
        )
    )
    # 30 + 40 + 40 = 110 >= challenge threshold 90; the strongest rule action is challenge.
    assert decision.score == 110 and decision.outcome == "challenge"


def test_alerts_go_to_the_outbox_with_the_decision(tmp_path: object) -> None:
    from shopguard import Engine
    from tests.conftest import TEST_KEYS

    engine = Engine.from_config(data_dir=str(tmp_path), keys=TEST_KEYS)
    engine.decide(event("account.register", "r1", account="bot", user_agent="curl/8"))
    engine.decide(event("account.register", "r2", account="human"))
    outbox = engine.log.outbox()  # type: ignore[attr-defined]
    engine.close()
    assert len(outbox) == 1 and b'"BOT_USER_AGENT"' in outbox[0]


def test_campaign_budgets_load_and_bad_ones_fail_naming_the_campaign(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("extends: starter\n")
    (tmp_path / "campaigns.yaml").write_text("campaigns:\n  - {campaign: c1, daily_budget: 100}\n")
    pack = load_pack(str(tmp_path))
    assert pack.campaigns is not None
    assert pack.campaigns.facts["c1"] == {"campaign_daily_budget": 100}
    assert load_pack("starter").campaigns is None  # shipped with none: only examples
    (tmp_path / "campaigns.yaml").write_text("campaigns:\n  - {campaign: c2, daily_budget: 0}\n")
    with pytest.raises(ConfigError, match="campaign c2"):
        load_pack(str(tmp_path))


def test_rings_are_read_only_where_a_rule_needs_them_and_the_graph_takes_every_event() -> None:
    rule = (
        "rules:\n  - {id: ring_gifts, on: [promo.claim], when: 'ring_claims >= 2', "
        "action: review, reason: '{ring_accounts} linked accounts claimed {ring_claims}'}\n"
    )
    engine = make_engine(
        pack=load_pack("inline", {"pack.yaml": "extends: starter\n", "rules.yaml": rule})
    )
    assert engine.ring_types == {"promo.claim"}
    assert not make_engine().ring_types  # the starter's rules read no ring value
    for i in range(3):  # three accounts on one device, each claiming the gift
        fields = {"account": f"a{i}", "device": {"id": "farm"}}
        engine.decide(event("account.register", f"r{i}", i, **fields))
        decision = engine.decide(event("promo.claim", f"c{i}", i + 0.5, campaign="g", **fields))
    assert [r.code for r in decision.reasons] == ["RING_GIFTS"]
    assert decision.features == {"ring_claims": 2}
    assert "2 linked accounts claimed 2" in decision.reasons[0].reason


def test_explain_shows_every_ring_value_on_every_type() -> None:
    engine = make_engine(explain=True)
    decision = engine.decide(event("http.request", "h", path="/", ip="1.2.3.4"))
    assert decision.features["ring_accounts"] == 0
    assert "ring_shared_device" in decision.features
