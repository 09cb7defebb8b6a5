"""The batch build over a real journal: tenants apart, hubs ignored, labels counted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from shopguard import Engine
from shopguard.rings.build import BuildOptions, build_book
from shopguard.rings.graph import LINK_KINDS, LinkKind
from tests.conftest import make_engine
from tests.rings.conftest import event, farm


def _journal(tmp_path: Path, events: list[dict[str, Any]]) -> Engine:
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    engine.decide_many(events)
    return engine


def test_one_ring_per_tenant_from_shared_devices(tmp_path: Path) -> None:
    engine = _journal(tmp_path, [*farm("shop"), *farm("other", start=100)])
    book, graph = build_book(engine.log)
    assert sorted(graph.tenants) == ["other", "shop"]
    sizes = sorted((r.tenant, r.size) for r in book.rings)
    assert sizes == [("other", 3), ("other", 3), ("shop", 3), ("shop", 3)]
    for ring in book.rings:
        assert all(m.startswith("k1.") for m in ring.members)  # pseudonyms, never raw
        assert ring.link_types == {"device": 1} and ring.harm_events == 3
        assert ring.harm_money == 60.0 and ring.new_accounts_24h == 3


def test_two_tenants_never_share_a_ring(tmp_path: Path) -> None:
    # the same raw device in two shops: pseudonyms differ per tenant, and graphs are apart
    events = [event(i, f"a{i}", tenant="shop" if i % 2 else "other", device={"id": "same"})
              for i in range(8)]  # fmt: skip
    book, _ = build_book(_journal(tmp_path, events).log)
    assert {r.tenant: r.size for r in book.rings} == {"shop": 4, "other": 4}


def test_a_hub_links_nobody(tmp_path: Path) -> None:
    events = [event(i, f"a{i}", device={"id": "kiosk"}) for i in range(8)]
    engine = _journal(tmp_path, events)
    assert len(build_book(engine.log)[0].rings) == 1
    kinds = {**LINK_KINDS, "device": LinkKind(1.0, 7)}
    book, graph = build_book(engine.log, BuildOptions(kinds=kinds))
    assert book.rings == [] and graph.tenants["shop"].hubs == 1


def test_window_and_labels(tmp_path: Path) -> None:
    events = [*farm("shop"), event(50, "old1", hours=-200, card="c9"),
              event(51, "old2", hours=-200, card="c9"),
              {**event(60, "shop-farm0", "case.label", hours=1), "verdict": "fraud"}]  # fmt: skip
    book, _ = build_book(_journal(tmp_path, events).log)
    assert len(book.rings) == 2  # old1 and old2 are outside the week
    ring, other = book.rings  # best first
    assert ring.fraud_labels == 1 and other.fraud_labels == 0 and ring.score > other.score
