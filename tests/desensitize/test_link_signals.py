"""Link signals: the phone block, e-mail pattern, IP /16 and device model, as tables of
values that must share one pseudonym (same) and must not (differ)."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.desensitize.phone import parse_phone
from shopguard.errors import ConfigError
from shopguard.events import decode_event
from shopguard.settings import load_settings
from tests.conftest import event, make_engine

KEYS = KeyRing({"k1": b"0123456789abcdef0123"}, "k1")
DESENSITIZE = Desensitizer(KEYS)


def _facts(desensitize: Desensitizer = DESENSITIZE, **fields: Any) -> dict[str, Any]:
    event = {"type": "account.register", "event_id": "e", "time": "2025-01-01T00:00:00Z"}
    return desensitize(decode_event({**event, "tenant": "shop", **fields}))[0]


def _signal(field: str, kind: str, value: Any) -> str | None:
    value = _facts(**{field: value}).get(kind)
    return None if value is None else str(value)


# (one, other, share a block?) at the default: blocks of 100
PHONE_BLOCKS = [
    ("+86 138 1234 5600", "+86 138 1234 5699", True),  # consecutive numbers of one block
    ("13812345601", "+86-138-1234-5602", True),  # national and international spelling
    ("008613812345601", "+8613812345677", True),
    ("+44 7700 900123", "+44 7700 900187", True),
    ("+1 415 555 0142", "+1 (415) 555-0199", True),
    ("+86 138 1234 5699", "+86 138 1234 5700", False),  # neighbours across a block edge
    ("13812345601", "13912345601", False),
    ("+44 7700 900123", "+86 7700 900123", False),  # one national number, two countries
    ("+44 7700 900123", "+49 7700 900123", False),
    ("+1 415 555 0142", "+1 416 555 0142", False),
]
NO_BLOCK = [
    "12345",  # too short to be a number
    "not a phone",
    "+999 1234 5678",  # no such country code
    hashlib.sha256(b"8613812345678").hexdigest(),  # pre-hashed: its digits are unknown
    hashlib.md5(b"13812345678").hexdigest(),
]


@pytest.mark.parametrize(("one", "other", "shared"), PHONE_BLOCKS)
def test_phone_blocks(one: str, other: str, shared: bool) -> None:
    a, b = _signal("phone", "phone_block", one), _signal("phone", "phone_block", other)
    assert a is not None and b is not None
    assert (a == b) == shared
    assert _signal("phone", "phone", one) != _signal("phone", "phone", other)


@pytest.mark.parametrize("raw", NO_BLOCK)
def test_an_unparsed_phone_has_no_block(raw: str) -> None:
    assert "phone_block" not in _facts(phone=raw)
    with pytest.raises(ConfigError):
        DESENSITIZE.entity("shop", "phone_block", raw)


def test_the_block_size_is_the_setting() -> None:
    assert load_settings(env={}).phone_block_digits == 2
    with pytest.raises(ConfigError):
        load_settings(env={}, overrides={"phone_block_digits": 0})
    wide = Desensitizer(KEYS, phone_block_digits=3)
    one, other = _facts(wide, phone="+8613812345600"), _facts(wide, phone="+8613812345999")
    assert one["phone_block"] == other["phone_block"]  # one block of 1,000
    assert _signal("phone", "phone_block", "+8613812345600") != one["phone_block"]
    assert parse_phone("+44 7700 900123").e164 == "447700900123"


def test_a_typed_phone_finds_its_block() -> None:
    facts = _facts(phone="+86 138 1234 5601")
    assert DESENSITIZE.entity("shop", "phone_block", "13812345688") == facts["phone_block"]


# (one, other, same pattern?)
EMAIL_PATTERNS = [
    ("user0412@qq.com", "abcd9350@qq.com", True),  # letters and digits, letter for letter
    ("wool2024_07@163.com", "farm1999_12@163.com", True),
    ("J.Doe+promo@Gmail.com", "abcd@gmail.com", True),  # gmail: dots and tags dropped first
    ("a.smith@example.org", "bo.jones@example.org", False),  # other lengths
    ("user0412@qq.com", "user0412@163.com", False),  # the domain is part of it
    ("user0412@qq.com", "user412x@qq.com", False),
    ("abcdefghijklmnopq1@x.com", "zyxwvutsrqponmlkj2@x.com", True),  # past the cap: one
    ("abcdefghijklmnop@x.com", "abcdefghijklmnopq@x.com", False),  # at the cap, past it
]


@pytest.mark.parametrize(("one", "other", "same"), EMAIL_PATTERNS)
def test_email_patterns(one: str, other: str, same: bool) -> None:
    a, b = _signal("email", "email_pattern", one), _signal("email", "email_pattern", other)
    assert a is not None and b is not None
    assert (a == b) == same
    assert DESENSITIZE.entity("shop", "email_pattern", one) == a


def test_email_domain_stays_a_clear_fact() -> None:
    facts = _facts(email="user0412@qq.com")
    assert facts["email_domain"] == "qq.com" and "qq.com" not in facts["email_pattern"]


# (one, other, same network?)
IP_NETWORKS = [
    ("46.41.252.160", "46.41.3.9", True),  # one /16, two /24s
    ("46.41.252.160", "46.42.252.160", False),
    (" 46.41.0.1 ", "46.41.255.255", True),
    ("2001:db8:1:2::1", "2001:db8:ffff::9", True),  # one IPv6 /32
    ("2001:0db8::1", "2001:db8:0:0:0:0:0:1", True),  # spellings of one address
    ("2001:db8::1", "2001:db9::1", False),
    ("2001:db8::1", "46.41.252.160", False),
]


@pytest.mark.parametrize(("one", "other", "same"), IP_NETWORKS)
def test_ip16(one: str, other: str, same: bool) -> None:
    a, b = _signal("ip", "ip16", one), _signal("ip", "ip16", other)
    assert a is not None and b is not None
    assert (a == b) == same
    assert DESENSITIZE.entity("shop", "ip16", one) == a


def test_ipv6_spellings_are_one_address_and_one_64() -> None:
    one, other = _facts(ip="2001:0db8::1"), _facts(ip="2001:db8::0001")
    assert one["ip"] == other["ip"] and one["ip24"] == other["ip24"]
    assert _facts(ip="2001:db8:1:2::1")["ip24"] == _facts(ip="2001:db8:1:2:ffff::1")["ip24"]
    assert _facts(ip="2001:db8:1:2::1")["ip24"] != _facts(ip="2001:db8:1:3::1")["ip24"]


# (one device, another, same model?)
DEVICE_MODELS: list[tuple[dict[str, Any], dict[str, Any], bool]] = [
    ({"model": "SM-G9910", "os": "android"}, {"model": "sm-g9910 ", "os": "Android"}, True),
    ({"model": "Redmi  Note 12"}, {"model": "redmi note 12"}, True),
    ({"model": "SM-G9910", "os": "android"}, {"model": "SM-G9960", "os": "android"}, False),
    ({"model": "SM-G9910", "os": "android"}, {"model": "SM-G9910", "os": "harmonyos"}, False),
    ({"model": "SM-G9910", "os": "android"}, {"model": "SM-G9910"}, False),
]


@pytest.mark.parametrize(("one", "other", "same"), DEVICE_MODELS)
def test_device_models(one: dict[str, Any], other: dict[str, Any], same: bool) -> None:
    a = _facts(device={"id": "d1", **one})["device_model"]
    b = _facts(device={"id": "d2", **other})["device_model"]
    assert (a == b) == same
    typed = f"{one['model']}|{one.get('os', '')}"
    assert DESENSITIZE.entity("shop", "device_model", typed) == a


def test_no_model_no_signal_and_the_user_agent_is_the_exact_string() -> None:
    assert "device_model" not in _facts(device={"id": "d1", "os": "android"})
    ua = "Mozilla/5.0 (Linux; Android 13) Chrome/120"
    assert _signal("user_agent", "user_agent", ua) == _signal("user_agent", "user_agent", ua)
    assert _signal("user_agent", "user_agent", ua) != _signal("user_agent", "user_agent", ua + " ")
    assert DESENSITIZE.entity("shop", "user_agent", ua) == _signal("user_agent", "user_agent", ua)


def test_each_signal_is_its_own_pseudonym_space() -> None:
    facts = _facts(
        phone="+8613812345601",
        email="user0412@qq.com",
        ip="46.41.252.160",
        address="88 Zhangjiang Rd",
        device={"id": "d", "model": "SM-G9910"},
    )
    kinds = ("phone", "phone_block", "email", "email_pattern", "ip", "ip24", "ip16")
    kinds += ("address", "address_building", "device", "device_model")
    values = [facts[k] for k in kinds]
    assert all(v.startswith("k1.") for v in values)
    # one dwelling without a unit: its address and building are one string, two kinds
    assert len(set(values)) == len(values)


def test_lists_and_erasure_reach_a_signal_from_any_variant_typed() -> None:
    engine = make_engine()
    engine.list_add("deny", "address", "12 Main St, Apt 4B", tenant="shop", reason="drop")
    engine.list_add("deny", "phone_block", "+8613812345600", tenant="shop", reason="pool")
    engine.list_add("deny", "device_model", "SM-G9910|android", tenant="shop", reason="farm")
    order = {"order_id": "o1", "amount": 5}
    drop = engine.decide(event("order.create", "o1", **order, address="12 MAIN STREET #4b"))
    pool = engine.decide(event("sms.send", "s1", phone="+86 138 1234 5677"))
    farm = engine.decide(
        event("account.login", "l1", device={"id": "new", "model": "sm-g9910", "os": "Android"})
    )
    for decision in (drop, pool, farm):
        assert decision.outcome == "deny" and decision.reasons[0].code == "LIST_DENY"
    other_unit = engine.decide(event("order.create", "o2", **order, address="12 Main St Apt 4C"))
    assert other_unit.outcome != "deny"
    erased = engine.erase("shop", "address", "12 main street, apartment 4B", raw=True)
    assert erased["decisions"] == 1 and erased["list_entries"] == 1
