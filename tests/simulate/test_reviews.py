"""Reviews in the simulated world: honest shoppers review some of what they paid for, a
farm posts five stars for one merchant; only when the fake_reviews attack is asked for,
so the default traffic of every seed stays what its reports were made on."""

from __future__ import annotations

import msgspec

from shopguard.simulate import simulate
from shopguard.simulate.attacks import ATTACKS


def _reviews(careful: bool) -> list[tuple[dict[str, object], int]]:
    out = []
    for raw, truth in simulate(30_000, seed=5, careful=careful, attacks={"fake_reviews": 2000}):
        event = msgspec.json.decode(raw)
        if event["type"] == "review.post":
            out.append((event, truth.label))
    return out


def test_default_traffic_has_no_reviews() -> None:
    assert not ATTACKS["fake_reviews"].default
    types = {msgspec.json.decode(raw)["type"] for raw, _ in simulate(20_000, seed=5)}
    assert "review.post" not in types


def test_honest_and_fake_reviews_side_by_side() -> None:
    for careful in (False, True):
        reviews = _reviews(careful)
        honest = [e for e, label in reviews if not label]
        fake = [e for e, label in reviews if label]
        assert len(honest) >= 30 and len(fake) >= 30
        assert {e["rating"] for e in honest} == {1, 2, 3, 4, 5}
        assert {e["rating"] for e in fake} <= {4, 5}
        assert all(str(e["merchant"]).startswith("m-rev-") for e in fake)
        # honest reviews name the order they paid for, most of the time
        assert sum("order_id" in e for e in honest) > len(honest) / 2


def test_reviews_are_deterministic_per_seed() -> None:
    assert _reviews(True) == _reviews(True)
