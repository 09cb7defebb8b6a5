"""Event claims across workers (state/claims.py): a worker that finds an id claimed waits
for that worker's decision and answers it, applying nothing; two batches holding each
other's ids do not wait on each other; the claim of a worker that died before deciding
is taken over once it expires (or, ours, once it is older than claim_wait), and its
event looked up in the journal first."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import msgspec
import redis

from shopguard import Engine
from shopguard.decision import Decision
from tests.conftest import event
from tests.state.shared_redis import URL, features_of, redis_prefix, worker


def sms(event_id: str, at: float) -> dict[str, Any]:
    return event("sms.send", event_id, at, phone="13812345678", device={"id": "d1"})


def claim_key(engine: Engine, event_id: str) -> str:
    assert engine.peers is not None
    return engine.peers.claims.key("shop", event_id)


def codes_sent(engine: Engine, at: float) -> Any:
    return features_of(engine, sms("probe", at))["phone_sms_1h"]


def test_a_pending_claim_is_waited_for_and_its_decision_answered() -> None:
    with redis_prefix("wait") as prefix:
        one, two = worker(prefix), worker(prefix)
        won = one.decide(sms("s1", 0))
        client = redis.Redis.from_url(URL)
        key = claim_key(one, "s1")
        decided = client.get(key)
        assert decided is not None and decided.startswith(b"D")
        client.set(key, b"Panother", px=5000)  # as while that worker is still deciding

        def finish() -> None:
            time.sleep(0.2)
            client.set(key, decided, px=60_000)

        threading.Thread(target=finish).start()
        started = time.monotonic()
        answered = two.decide(sms("s1", 0))
        assert time.monotonic() - started >= 0.2  # it waited for the decision
        assert msgspec.json.encode(answered) == msgspec.json.encode(won)
        assert codes_sent(two, 5) == 1  # applied once, by the first worker
        client.close()
        one.close()
        two.close()


def test_a_dead_workers_claim_is_taken_over_once_it_expires() -> None:
    with redis_prefix("dead") as prefix:
        engine = worker(prefix, claim_wait="0.3s")
        client = redis.Redis.from_url(URL)
        client.set(claim_key(engine, "s1"), b"Pdead", px=300)  # it died deciding s1
        decided = engine.decide(sms("s1", 0))
        assert isinstance(decided, Decision) and decided.event_id == "s1"
        assert (client.get(claim_key(engine, "s1")) or b"").startswith(b"D")
        assert codes_sent(engine, 5) == 1
        client.close()
        engine.close()


def test_batches_holding_each_others_ids_finish_with_one_decision_each() -> None:
    with redis_prefix("cross") as prefix:
        one, two = worker(prefix, claim_wait="3s"), worker(prefix, claim_wait="3s")
        events = [sms(f"s{i}", i) for i in range(20)]
        client = redis.Redis.from_url(URL)
        for i in range(20):  # as if each were halfway through its batch: one holds s0-s9
            holder = one if i < 10 else two
            assert holder.peers is not None
            client.set(claim_key(one, f"s{i}"), holder.peers.claims.mark, px=3000)
        client.close()
        answers: dict[int, list[Decision]] = {}
        start = threading.Barrier(2)

        def run(n: int, engine: Engine, batch: list[dict[str, Any]]) -> None:
            start.wait()
            answers[n] = engine.decide_many(batch)

        threads = [
            threading.Thread(target=run, args=(0, one, events)),
            threading.Thread(target=run, args=(1, two, events[::-1])),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        mine = {d.event_id: msgspec.json.encode(d) for d in answers[0]}
        theirs = {d.event_id: msgspec.json.encode(d) for d in answers[1]}
        assert mine == theirs
        # each event counted once: had the batches waited on each other until their
        # claims expired, both would have taken the other's over and counted it again
        assert codes_sent(one, 30) == 20
        one.close()
        two.close()


def test_a_worker_that_died_after_its_commit_is_answered_from_the_journal(
    tmp_path: Path,
) -> None:
    """Its claim still says pending (it never wrote its decision there): the worker that
    takes the stale claim over finds the event in the shared journal and answers that
    decision instead of deciding it again."""
    from tests.state.pg import DSN, pg_schema

    with redis_prefix("died") as prefix, pg_schema("claims") as schema:
        shared = {"decision_log": "postgres", "postgres_dsn": DSN, "postgres_schema": schema}
        shared["data_dir"] = str(tmp_path)  # the audit key and spools of both workers
        one = worker(prefix, claim_wait="0.2s", writer="w1", **shared)
        two = worker(prefix, claim_wait="0.2s", writer="w2", **shared)
        won = one.decide(sms("s1", 0))
        assert one.peers is not None
        client = redis.Redis.from_url(URL)
        mark, ttl = one.peers.claims.mark, one.peers.claims._pending_ms
        client.set(claim_key(one, "s1"), mark, px=ttl)  # as if it died before settling
        answered = two.decide(sms("s1", 0))
        assert msgspec.json.encode(answered) == msgspec.json.encode(won)
        assert codes_sent(two, 5) == 1  # not applied again
        client.close()
        one.close()
        two.close()
