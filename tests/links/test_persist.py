"""The graph survives restart exactly (snapshot, then the journal after it), replay
computes what live serving did, and a batch that failed to commit leaves no trace."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from shopguard import Engine
from shopguard.config import load_pack
from shopguard.errors import StorageUnavailable
from shopguard.links import LinkGraph, read_ring
from shopguard.links.config import LinkConfig, LinkKind
from shopguard.links.persist import decode_graph, encode_graph
from tests.conftest import event, make_engine
from tests.state.disks import fill, small_disk


def traffic(count: int, seed: int = 3) -> list[dict[str, Any]]:
    """Accounts sharing a few devices, cards and phones; claims, redeems and labels."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = rng.choice(["account.register", "promo.claim", "promo.redeem", "case.label"])
        fields: dict[str, Any] = {
            "account": f"acct{rng.randrange(30)}",
            "device": {"id": f"dev{rng.randrange(12)}"},
            "tenant": rng.choice(["shop", "mall"]),
        }
        if rng.random() < 0.5:
            fields["card"] = f"4111{rng.randrange(8):012d}"
        if rng.random() < 0.5:
            fields["phone"] = f"1380000{rng.randrange(10):04d}"
        if kind in ("promo.claim", "promo.redeem"):
            fields["campaign"] = "gift"
        if kind == "case.label":
            fields["verdict"] = rng.choice(["fraud", "legit"])
        out.append(event(kind, f"e{i}", i * 600.0, **fields))
    return out


def rings(decisions: list[Any]) -> list[dict[str, Any]]:
    return [{k: v for k, v in d.features.items() if k.startswith("ring_")} for d in decisions]


def durable(data_dir: Path, **options: Any) -> Engine:
    return make_engine(
        decision_log="sqlite",
        data_dir=str(data_dir),
        explain=True,
        journal_probe_every="0s",
        **options,
    )


@pytest.mark.parametrize("snapshot_every", [0, 37])
def test_a_restart_decides_as_the_run_it_replaces(tmp_path: Path, snapshot_every: int) -> None:
    events = traffic(400)
    whole = make_engine(explain=True)
    expected = rings([whole.decide(e) for e in events])
    assert any(r["ring_accounts"] for r in expected[200:])
    first = durable(tmp_path, snapshot_every=snapshot_every)
    for e in events[:200]:
        first.decide(e)
    first.log.close()  # no snapshot at close: only those taken every 37 events
    second = durable(tmp_path, snapshot_every=snapshot_every)
    assert encode_graph(second.links) == encode_graph(_graph_after(events[:200]))
    assert rings([second.decide(e) for e in events[200:]]) == expected[200:]
    assert encode_graph(second.links) == encode_graph(whole.links)
    second.close()
    third = durable(tmp_path)  # from the snapshot taken at close
    assert encode_graph(third.links) == encode_graph(whole.links)
    third.close()


def _graph_after(events: list[dict[str, Any]]) -> LinkGraph:
    engine = make_engine(explain=True)
    for e in events:
        engine.decide(e)
    return engine.links


def test_a_snapshot_restores_the_graph_down_to_its_orders() -> None:
    config = LinkConfig(kinds=(LinkKind("device", 2), LinkKind("card", 3)), account_links=3)
    graph = LinkGraph(config)
    rng = random.Random(5)
    stream = [
        {
            "type": rng.choice(["payment", "promo.claim", "case.label"]),
            "tenant": rng.choice("xy"),
            "time": i * 30.0,
            "account": f"a{rng.randrange(9)}",
            "device": f"d{rng.randrange(4)}",
            "card": f"c{rng.randrange(6)}",
            "verdict": "fraud",
        }
        for i in range(3000)
    ]
    restored = LinkGraph(config)
    for i, facts in enumerate(stream):
        if i % 250 == 0:
            restored.tenants = decode_graph(encode_graph(graph), restored)
        assert read_ring(restored, facts) == read_ring(graph, facts)
        graph.fold(facts, i % 4)
        restored.fold(facts, i % 4)
    assert encode_graph(restored) == encode_graph(graph)


def test_the_snapshot_fingerprint_covers_the_links() -> None:
    base = make_engine()
    texts = {"pack.yaml": "extends: starter\n", "links.yaml": "window: 3d\n"}
    other = make_engine(pack=load_pack("inline", texts))
    assert other.pack.links.window == 3 * 86400
    assert other._fingerprint != base._fingerprint


@pytest.mark.parametrize("reserve_mb", [4, 0], ids=["refused-first", "undone"])
def test_a_batch_that_failed_to_commit_leaves_the_graph_as_it_was(
    tmp_path: Path, reserve_mb: int
) -> None:
    events = traffic(120)
    with small_disk(tmp_path / "disk", "8m") as disk:
        engine = durable(disk, journal_min_free_mb=reserve_mb)
        for e in events[:60]:
            engine.decide(e)
        before = encode_graph(engine.links)
        ballast = fill(disk)
        with pytest.raises(StorageUnavailable):
            engine.decide_many(events[60:])
        assert encode_graph(engine.links) == before
        ballast.unlink()
        assert engine.storage_problem() is None
        again = rings(engine.decide_many(events[60:]))
        engine.close()
    whole = make_engine(explain=True)
    assert rings([whole.decide(e) for e in events])[60:] == again
