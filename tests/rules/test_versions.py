"""Ruleset versions: upload, publish, shadow, promote, roll back; the trail is chained."""

from __future__ import annotations

import pytest

from shopguard.errors import ConfigError
from shopguard.rules.swap import bring
from shopguard.rules.trail import Rulesets
from tests.conftest import event, make_engine
from tests.rules.conftest import Trail

DENY_SMS = """
rules:
  - id: deny_every_sms
    on: [sms.send]
    when: hour >= 0
    action: deny
    reason: every SMS denied (test)
"""
REVIEW_SMS = DENY_SMS.replace("deny_every_sms", "review_every_sms").replace(
    "action: deny", "action: review"
)


def test_a_bad_version_is_refused_naming_the_rule() -> None:
    engine = make_engine()
    with pytest.raises(ConfigError, match="rule deny_every_sms"):
        engine.pack.compile_rules(DENY_SMS.replace("hour >= 0", "no_such_feature > 1"), "r1")


def test_publish_shadow_promote_rollback(trail: Trail) -> None:
    engine = make_engine()
    store = trail.open()
    one = store.upload(DENY_SMS, "alice", "deny all SMS")
    two = store.upload(REVIEW_SMS, "bob")
    store.change("publish", "alice", one.number)
    bring(engine, store)
    first = engine.decide(event("sms.send", "s1", phone="13800000001"))
    assert first.outcome == "deny" and first.ruleset_version == one.name

    store.change("shadow", "bob", two.number)
    bring(engine, store)
    shadowed = engine.decide(event("sms.send", "s2", phone="13800000002"))
    assert shadowed.outcome == "deny" and shadowed.challenger_outcome == "review"
    assert [r.rule for r in shadowed.shadow] == [f"review_every_sms@{two.name}"]

    assert store.change("promote", "carol").champion == two.number
    bring(engine, store)
    assert engine.decide(event("sms.send", "s3", phone="13800000003")).outcome == "review"

    standing = store.change("rollback", "carol")
    assert (standing.champion, standing.challenger) == (one.number, None)
    assert store.change("rollback", "carol").champion is None  # back to the pack's rules
    bring(engine, store)
    assert engine.decide(event("sms.send", "s4", phone="13800000004")).outcome == "allow"
    actions = [(c.action, c.actor) for c in store.changes()]
    assert actions[:3] == [("upload", "alice"), ("upload", "bob"), ("publish", "alice")]
    assert store.verify().ok and store.verify().records == 7


def test_an_edited_version_or_change_is_found(trail: Trail) -> None:
    store = trail.open()
    store.upload(DENY_SMS, "alice")
    store.change("publish", "alice", 1)
    trail.tamper("UPDATE {versions} SET text = replace(text, 'deny', 'allow')")
    assert store.verify().problem == "record edited" and store.verify().at == 1
    trail.tamper("UPDATE {versions} SET text = ?", (DENY_SMS,))
    trail.tamper("UPDATE {changes} SET actor = 'mallory' WHERE id = 2")
    assert store.verify().at == 2


def test_cutting_the_newest_change_is_found_by_the_seal(trail: Trail) -> None:
    store = trail.open()
    store.upload(DENY_SMS, "alice")
    store.change("publish", "alice", 1)
    assert store.verify().ok
    trail.tamper("DELETE FROM {changes} WHERE id = 2")  # the chain alone still walks
    assert "newest records deleted" in store.verify().problem


def test_another_worker_sees_each_change_and_its_revision(trail: Trail) -> None:
    ours, theirs = trail.open(), trail.open()
    before = theirs.revision()
    one = ours.upload(DENY_SMS, "alice")
    ours.change("publish", "alice", one.number)
    assert theirs.revision() > before
    assert theirs.standing().champion == one.number
    assert theirs.change("rollback", "bob").champion is None  # on the trail ours wrote
    assert ours.standing().champion is None and ours.verify().ok and theirs.verify().ok


def test_nothing_to_promote_or_roll_back_is_a_clear_error(trail: Trail) -> None:
    store = trail.open()
    with pytest.raises(ConfigError, match="no challenger"):
        store.change("promote", "alice")
    with pytest.raises(ConfigError, match="nothing to roll back"):
        store.change("rollback", "alice")
    with pytest.raises(ConfigError, match="no ruleset version 9"):
        store.change("publish", "alice", 9)


def test_two_workers_changing_at_once_keep_one_unbroken_chain(trail: Trail) -> None:
    import threading

    stores = [trail.open() for _ in range(4)]
    failed: list[BaseException] = []

    def upload(store: Rulesets, author: str) -> None:
        try:
            for i in range(10):
                store.upload(DENY_SMS.replace("(test)", f"({author} {i})"), author)
        except BaseException as exc:
            failed.append(exc)

    threads = [
        threading.Thread(target=upload, args=(s, a)) for s, a in zip(stores, "abcd", strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failed
    report = stores[0].verify()
    assert report.ok and report.records == 40
    assert [v.number for v in stores[1].versions()] == list(range(1, 41))
