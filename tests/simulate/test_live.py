"""The demo's live traffic: every attack's first harm within the first two minutes, honest
traffic at the asked rate with a past behind it, in time order."""

from __future__ import annotations

from shopguard.simulate.attacks import ATTACKS
from shopguard.simulate.live import HISTORY, live


def test_every_attack_harms_within_two_minutes_over_honest_traffic_at_the_rate() -> None:
    traffic = live(120, 4.0, seed=3)
    offsets = [item.offset for item in traffic]
    assert offsets == sorted(offsets) and offsets[-1] < 120
    for name, attack in ATTACKS.items():
        harms = [
            item.offset
            for item in traffic
            if item.truth.attack == name and item.fields["type"] in attack.harm
        ]
        assert harms and 0 < min(harms) < 120, name
    honest = [item for item in traffic if not item.truth.label and item.offset >= -HISTORY]
    per_second = len(honest) / (HISTORY + 120)
    assert 3.0 < per_second < 5.5, per_second  # about the asked 4/s
    assert any(item.offset < -3600 for item in honest)  # a past older than live accepts
    assert not any("event_id" in item.fields or "time" in item.fields for item in traffic)
