"""Two worker processes, each its own engine on one Redis prefix, deciding events of the
same accounts, devices, IPs, phones and cards at the same moment, in batches; some event
ids are sent to both at once.

Afterwards Redis holds exactly what one memory engine folding every event once, in
sequence, holds, for the order-insensitive aggregates (count, sum, mean, max, distinct,
ratio): no update was lost and no event counted twice. What may differ by interleaving,
and is not compared: the sequence kinds (followed_by, not_followed_by: which of two
near-simultaneous events came first), first_seen and since_last (the first and last
event *folded*, in arrival order: the other worker's may land first), baseline and
outstanding (they fold in arrival order), and the
decisions themselves (each event read the state as of whatever the other worker had
written by then). An id sent to both gets one decision, the same answer from each.
"""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from shopguard.decision import decision_encoder
from tests.conftest import make_engine
from tests.state.shared_redis import features_of, redis_prefix, worker

EXACT = {"count", "sum", "mean", "max", "distinct", "ratio"}
START = datetime(2025, 3, 1, 10, tzinfo=UTC)
ACCOUNTS, DEVICES, IPS, PHONES, CARDS = 8, 4, 4, 4, 4


def _events(seed: int, count: int, prefix: str) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = rng.choice(["account.register", "account.login", "payment", "sms.send"])
        event: dict[str, Any] = {
            "type": kind,
            "event_id": f"{prefix}{i}",
            "tenant": "shop",
            "time": (START + timedelta(seconds=i * 0.05 + rng.random())).isoformat(),
            "account": f"a{rng.randrange(ACCOUNTS)}",
            "device": {"id": f"d{rng.randrange(DEVICES)}"},
            "ip": f"10.0.{rng.randrange(2)}.{rng.randrange(IPS)}",
            "phone": f"1381234{rng.randrange(PHONES):04d}",
        }
        if kind == "payment":  # whole amounts: sums are exact in any order
            event |= {"amount": float(rng.randrange(1, 500)), "card": f"c{rng.randrange(CARDS)}"}
            event["success"] = rng.random() > 0.2
        if kind == "account.login":
            event["success"] = rng.random() > 0.3
        out.append(event)
    return out


def _run(prefix: str, events: list[dict[str, Any]], seed: int, start: Any, out: Any) -> None:
    engine = worker(prefix, explain=True, claim_wait="20s")  # a loaded CI machine is slow
    rng = random.Random(seed)
    decided: dict[str, bytes] = {}
    start.wait()
    i = 0
    while i < len(events):
        size = rng.randint(1, 12)
        for decision in engine.decide_many(events[i : i + size]):
            decided[decision.event_id] = decision_encoder.encode(decision)
        i += size
    out.put(decided)
    engine.close()


def _probes() -> list[dict[str, Any]]:
    """One look per entity combination, after every event (nothing is decided)."""
    when = (START + timedelta(minutes=5)).isoformat()
    probes = []
    for a in range(ACCOUNTS):
        for kind in ("payment", "account.login", "account.register", "sms.send"):
            probe: dict[str, Any] = {"type": kind, "event_id": f"probe{a}{kind}", "tenant": "shop"}
            probe |= {"time": when, "account": f"a{a}", "device": {"id": f"d{a % DEVICES}"}}
            probe |= {"ip": f"10.0.{a % 2}.{a % IPS}", "phone": f"1381234{a % PHONES:04d}"}
            if kind == "payment":
                probe |= {"amount": 1.0, "card": f"c{a % CARDS}"}
            probes.append(probe)
    return probes


def test_two_workers_lose_no_update_and_count_a_shared_id_once() -> None:
    own = [_events(1, 240, "w0-"), _events(2, 240, "w1-")]
    both = _events(3, 60, "both-")  # sent to each worker, interleaved with its own
    streams = [own[0][:120] + both + own[0][120:], own[1][:120] + both + own[1][120:]]
    context = multiprocessing.get_context("fork")
    with redis_prefix("two") as prefix:
        start, out = context.Barrier(2), context.Queue()
        procs = [
            context.Process(target=_run, args=(prefix, stream, seed, start, out))
            for seed, stream in enumerate(streams)
        ]
        for proc in procs:
            proc.start()
        answers = [out.get(timeout=120), out.get(timeout=120)]
        for proc in procs:
            proc.join(30)
            assert proc.exitcode == 0

        # an id sent to both: one decision, the same answer from each
        for event in both:
            first, second = (a[event["event_id"]] for a in answers)
            assert first == second, event["event_id"]

        sequential = make_engine(explain=True)
        everything = sorted([*own[0], *own[1], *both], key=lambda e: e["time"])
        sequential.decide_many(everything)
        shared = worker(prefix, explain=True)
        kinds = {name: spec.kind for name, spec in shared.features.specs.items()}
        compared = 0
        for probe in _probes():
            expected, found = features_of(sequential, probe), features_of(shared, probe)
            exact = {n for n in expected if kinds.get(n) in EXACT}
            assert {n: found.get(n) for n in exact} == {n: expected[n] for n in exact}
            compared += sum(1 for n in exact if expected[n])
        assert compared > 150  # the probes saw state, not only empty rows
        shared.close()


def test_the_decisions_a_loser_answers_are_the_winners_own() -> None:
    """Two engines in one process, one event: the second answers the first's decision
    (decoded from its claim), applying nothing: the device's count moves once."""
    with redis_prefix("same") as prefix:
        first, second = worker(prefix), worker(prefix)
        event = {"type": "sms.send", "event_id": "s1", "tenant": "shop", "phone": "13800000001"}
        event |= {"time": START.isoformat(), "device": {"id": "d"}, "ip": "1.2.3.4"}
        won = first.decide(event)
        answered = second.decide(event)
        assert msgspec.json.encode(answered) == msgspec.json.encode(won)
        later = {**event, "event_id": "s2", "time": (START + timedelta(seconds=1)).isoformat()}
        assert features_of(second, later)["device_sms_10m"] == 1
        first.close()
        second.close()
