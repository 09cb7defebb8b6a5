from __future__ import annotations

import ast
from collections import Counter
from itertools import pairwise
from pathlib import Path

import msgspec

from shopguard.events import decode_event
from shopguard.replay import iter_events
from shopguard.simulate import simulate
from shopguard.simulate.attacks import ATTACKS

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "shopguard" / "simulate"


def test_same_seed_same_traffic_other_seed_other_traffic() -> None:
    first = list(simulate(5_000, seed=3))
    assert first == list(simulate(5_000, seed=3))
    assert first != list(simulate(5_000, seed=4))


def test_every_event_is_valid_and_in_time_order() -> None:
    stream = list(simulate(20_000, seed=5))
    events = [decode_event(raw) for raw, _ in stream]
    times = [e.time for e in events]
    assert times == sorted(times)
    assert len({e.event_id for e in events}) == len(events)


def test_every_attack_appears_with_its_truth_and_honest_traffic_dominates() -> None:
    counts = Counter(truth.attack for _, truth in simulate(100_000, seed=9))
    assert {name for name, attack in ATTACKS.items() if attack.default} <= set(counts)
    assert counts[""] > 0.9 * sum(counts.values())


def test_careful_variants_are_slower() -> None:
    def median_gap(careful: bool) -> float:
        times = sorted(
            decode_event(raw).time.timestamp()
            for raw, truth in simulate(
                50_000, seed=2, careful=careful, attacks={"wool_party": 4_000}
            )
            if truth.attack == "wool_party" and b'"account.register"' in raw
        )
        gaps = sorted(b - a for a, b in pairwise(times))
        return gaps[len(gaps) // 2]

    assert median_gap(True) > 10 * median_gap(False)


def test_the_simulator_does_not_know_the_rules() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert node.module.startswith(
                    ("shopguard.simulate", "__future__")
                ) or not node.module.startswith("shopguard"), f"{path.name} imports {node.module}"


def test_replay_reads_simulator_output_and_keeps_the_truth(tmp_path: Path) -> None:
    out = tmp_path / "sim.jsonl"
    with out.open("wb") as sink:
        for raw, truth in simulate(2_000, seed=1):
            sink.write(b'{"event":' + raw + b',"truth":' + msgspec.json.encode(truth) + b"}\n")
    pairs = list(iter_events(out))
    assert len(pairs) >= 2_000
    assert set(pairs[0][1]) == {"label", "attack"}
    decode_event(pairs[0][0])  # type: ignore[arg-type]


def test_all_traffic_falls_inside_the_simulated_days() -> None:
    times = [decode_event(raw).time.timestamp() for raw, _ in simulate(20_000, seed=4, days=3)]
    assert max(times) - min(times) < 3 * 86400


def test_cabinet_theft_truth_carries_the_stake_and_the_event_does_not() -> None:
    sessions = [
        (msgspec.json.decode(raw), truth)
        for raw, truth in simulate(100_000, seed=9)
        if truth.attack == "cabinet_theft" and b'"cabinet.session"' in raw
    ]
    assert sessions and all(truth.stake > 0 for _, truth in sessions)
    assert all("_stake" not in event for event, _ in sessions)
    for event, truth in sessions:  # unpaid goods at 4.5 each: taken minus what was paid
        paid = len(event["billed"]) if event["paid"] else 0
        assert truth.stake == 4.5 * (len(event["rfid_missing"]) - paid)
