"""A batch through the engine: one commit, a malformed event rejected alone, decisions and
alerts (at the policy's floor) with ids that stay the same when an event comes again."""

from __future__ import annotations

from typing import Any

import msgspec

from shopguard.sources import Message
from shopguard.sources.ingest import decide_batch
from tests.conftest import event, make_engine


def _messages(events: list[Any]) -> list[Message]:
    out = []
    for i, e in enumerate(events):
        data = e if isinstance(e, bytes) else msgspec.json.encode(e)
        out.append(Message(data, i, f"message {i}"))
    return out


def _farm(n: int) -> list[dict[str, Any]]:
    """``n`` sign-ups of different accounts on one device: the fourth on is denied."""
    return [
        event("account.register", f"r{i}", i, account=f"a{i}", device={"id": "farm1"})
        for i in range(n)
    ]


def test_a_malformed_event_is_rejected_alone() -> None:
    engine = make_engine()
    good = _farm(3)
    batch = _messages([good[0], b'{"type":"payment"', good[1], {"type": "nope"}, good[2]])
    result = decide_batch(engine, batch)
    assert [m.handle for m, _ in result.decided] == [0, 2, 4]
    assert [d.event_id for _, d in result.decided] == ["r0", "r1", "r2"]
    assert [m.handle for m, _ in result.rejected] == [1, 3]
    assert all("\n" not in why and why for _, why in result.rejected)
    assert engine.log.last_seq() == 3  # the three good ones, decided once


def test_alerts_follow_the_policy_floor_and_ids_stay_the_same() -> None:
    engine = make_engine()
    result = decide_batch(engine, _messages(_farm(5)))
    outcomes = [d.outcome for _, d in result.decided]
    assert outcomes[3:] == ["deny", "deny"] and "deny" not in outcomes[:3]
    alerts = [o for o in result.outputs if o.kind == "alerts"]
    assert [o.msg_id for o in alerts] == ["shop:r3:alert", "shop:r4:alert"]
    body = msgspec.json.decode(alerts[0].body)
    assert body["alert"] is True and body["outcome"] == "deny"
    assert body["entities"]["device"] != "farm1"  # pseudonyms only
    decisions = [o for o in result.outputs if o.kind == "decisions"]
    assert [o.msg_id for o in decisions] == [f"shop:r{i}" for i in range(5)]

    again = decide_batch(engine, _messages(_farm(5)))  # redelivered: from the journal
    assert engine.log.last_seq() == 5
    assert [o.msg_id for o in again.outputs] == [o.msg_id for o in result.outputs]
    assert [o.body for o in again.outputs if o.kind == "decisions"] == [o.body for o in decisions]
