"""Percentage rollout: a stable, keyed share of accounts decided by the candidate, tagged,
persisted with the versions, ended by promotion."""

from __future__ import annotations

from pathlib import Path

import pytest

from shopguard.engine import Engine
from shopguard.errors import ConfigError
from shopguard.rules.swap import bring
from shopguard.rules.versions import Rollout, Rulesets, RulesetStore
from tests.conftest import event, make_engine
from tests.rules.conftest import Trail
from tests.rules.test_versions import DENY_SMS, REVIEW_SMS

ACCOUNTS = 4000


def _staged(
    where: Path | Rulesets, percent: float, by: str = "account"
) -> tuple[Rulesets, str, str]:
    """Champion: review every SMS; candidate: deny every SMS, rolled out to ``percent``
    (``where``: a SQLite file, or a store of either backend)."""
    store = RulesetStore(where) if isinstance(where, Path) else where
    champion = store.upload(REVIEW_SMS, "alice")
    candidate = store.upload(DENY_SMS, "bob")
    store.change("publish", "alice", champion.number)
    store.change("rollout", "bob", candidate.number, Rollout(percent, by))
    return store, champion.name, candidate.name


def _denied(engine: Engine, accounts: range, tag: str = "a") -> set[int]:
    events = [
        event("sms.send", f"{tag}{i}", account=f"acct-{i}", phone=f"1380000{i:04d}")
        for i in accounts
    ]
    return {
        i for i, d in zip(accounts, engine.decide_many(events), strict=True) if d.outcome == "deny"
    }


def test_the_share_is_within_tolerance_and_each_decision_names_who_decided(
    tmp_path: Path,
) -> None:
    store, champion, candidate = _staged(tmp_path / "rulesets.db", 10)
    engine = make_engine()
    bring(engine, store)
    decisions = engine.decide_many(
        [event("sms.send", f"s{i}", account=f"acct-{i}") for i in range(ACCOUNTS)]
    )
    rolled = [d for d in decisions if d.ruleset_version == candidate]
    # binomial(4000, 0.1): mean 400, sd 19; 340-460 is beyond three sd either side
    assert 340 <= len(rolled) <= 460
    assert all(d.outcome == "deny" and f"rollout:{candidate}" in d.trace for d in rolled)
    assert all(d.challenger_outcome == "review" for d in rolled)  # the champion, in shadow
    assert {r.rule for d in rolled for r in d.shadow} == {f"review_every_sms@{champion}"}
    kept = [d for d in decisions if d.ruleset_version == champion]
    assert len(kept) + len(rolled) == ACCOUNTS
    assert all(d.outcome == "review" and d.challenger_outcome == "deny" for d in kept)
    assert not any(t.startswith("rollout:") for d in kept for t in d.trace)


def test_an_account_always_goes_the_same_way_even_after_a_restart(trail: Trail) -> None:
    store, _, _ = _staged(trail.open(), 25)
    engine = make_engine()
    bring(engine, store)
    first = _denied(engine, range(400), "a")
    assert first == _denied(engine, range(400), "b")  # new events, the same accounts
    store.close()
    again = trail.open()  # a restart (or another worker): the trail holds the rollout
    assert again.standing().rollout == Rollout(25, "account")
    restarted = make_engine()
    bring(restarted, again)
    assert _denied(restarted, range(400), "c") == first


def test_raising_the_share_keeps_those_already_in_it(tmp_path: Path) -> None:
    store, _, _ = _staged(tmp_path / "rulesets.db", 10)
    engine = make_engine()
    bring(engine, store)
    ten = _denied(engine, range(1000), "a")
    store.change("rollout", "bob", 2, Rollout(30))
    bring(engine, store)
    thirty = _denied(engine, range(1000), "b")
    assert ten < thirty


def test_buckets_are_keyed_by_the_deployment_key(tmp_path: Path) -> None:
    store, _, _ = _staged(tmp_path / "rulesets.db", 50)
    ours, theirs = make_engine(), make_engine(keys={"k1": "another-deployment-key-0123456789"})
    bring(ours, store)
    bring(theirs, store)
    assert _denied(ours, range(200)) != _denied(theirs, range(200))


def test_an_event_without_the_entity_falls_back_to_device(tmp_path: Path) -> None:
    store, _, candidate = _staged(tmp_path / "rulesets.db", 50, "account")
    engine = make_engine()
    bring(engine, store)
    events = [event("sms.send", f"d{i}", device={"id": f"dev-{i}"}) for i in range(200)]
    versions = {d.ruleset_version for d in engine.decide_many(events)}
    assert candidate in versions and len(versions) == 2
    bare = engine.decide(event("sms.send", "bare"))  # nothing to hash by: the champion
    assert bare.ruleset_version != candidate


def test_promotion_ends_the_rollout_and_rollback_or_unshadow_cancels_it(tmp_path: Path) -> None:
    store, _, candidate = _staged(tmp_path / "rulesets.db", 10)
    assert store.change("rollback", "carol").rollout is None  # challenger stays, in shadow
    assert store.standing().challenger == 2
    store.change("rollout", "bob", 2, Rollout(10))
    assert store.change("unshadow", "carol") == store.standing()
    assert store.standing().rollout is None and store.standing().challenger is None
    store.change("rollout", "bob", 2, Rollout(10))
    standing = store.change("promote", "carol")
    assert (standing.champion, standing.challenger, standing.rollout) == (2, None, None)
    engine = make_engine()
    bring(engine, store)
    decisions = engine.decide_many([event("sms.send", f"p{i}", account=f"a{i}") for i in range(50)])
    assert {d.ruleset_version for d in decisions} == {candidate}
    assert not any(d.trace for d in decisions)
    assert store.verify().ok


def test_bad_terms_are_refused_and_nothing_is_recorded(tmp_path: Path) -> None:
    store, _, _ = _staged(tmp_path / "rulesets.db", 10)
    before = len(store.changes())
    with pytest.raises(ConfigError, match="0 to 100"):
        store.change("rollout", "bob", 2, Rollout(150))
    with pytest.raises(ConfigError, match="one of account, device, ip"):
        store.change("rollout", "bob", 2, Rollout(10, "phone"))
    with pytest.raises(ConfigError, match="no ruleset version 9"):
        store.change("rollout", "bob", 9, Rollout(10))
    assert len(store.changes()) == before
    assert store.changes()[-1].terms == '{"percent":10,"by":"account"}'
