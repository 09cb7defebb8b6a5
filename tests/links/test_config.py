"""links.yaml: loaded with the pack, inherited like the other pack files, checked."""

from __future__ import annotations

import pytest

from shopguard.config import load_pack
from shopguard.errors import ConfigError
from shopguard.links import load_links, ring_names

PACK = "extends: starter\n"


def test_the_starter_links_strong_kinds_and_leaves_population_wide_ones_off() -> None:
    links = load_pack("starter").links
    on = {k.kind: k.cap for k in links.enabled}
    assert {"device", "card", "phone", "phone_block", "address", "address_building"} <= set(on)
    assert {"referrer", "ip"} <= set(on)
    assert not {"ip16", "user_agent", "device_model", "email_pattern"} & set(on)
    assert links.window == 7 * 86400
    assert "ring_shared_phone_block" in ring_names(links)
    assert "ring_shared_ip16" not in ring_names(links)


def test_an_extending_pack_changes_one_kind_and_keeps_the_rest() -> None:
    texts = {
        "pack.yaml": PACK,
        "links.yaml": "ring_cap: 50\nlinks:\n  - {kind: ip, cap: 2}\n  - {kind: ip16, cap: 9}\n",
    }
    links = load_pack("inline", texts).links
    caps = {k.kind: k.cap for k in links.enabled}
    assert caps["ip"] == 2 and caps["ip16"] == 9 and caps["device"] == 5
    assert links.ring_cap == 50 and links.window == 7 * 86400


def test_rules_read_ring_values_of_kinds_switched_on_only() -> None:
    rule = "rules:\n  - {id: r, on: [promo.claim], when: '%s >= 3', action: review, reason: x}\n"
    pack = load_pack("inline", {"pack.yaml": PACK, "rules.yaml": rule % "ring_shared_address"})
    assert pack.schema["ring_accounts"] == "num"
    with pytest.raises(ConfigError, match="ring_shared_ip16"):
        load_pack("inline", {"pack.yaml": PACK, "rules.yaml": rule % "ring_shared_ip16"})


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"links": [{"kind": "shoe_size", "cap": 3}]}, "unknown link kinds"),
        ({"links": [{"kind": "ip", "cap": 0}]}, "at least 1"),
        ({"links": [{"kind": "ip", "cap": 2}, {"kind": "ip", "cap": 3}]}, "twice"),
        ({"window": "7d", "memory": "1d"}, "memory at least the window"),
        ({"ring_cap": 0}, ">= 1"),
        ({"windw": "7d"}, "unknown settings"),
        ({"links": [{"kind": "ip"}]}, "invalid links"),
    ],
)
def test_bad_links_are_refused_at_load(doc: dict[str, object], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_links(doc)
