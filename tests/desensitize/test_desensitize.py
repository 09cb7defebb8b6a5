from __future__ import annotations

import hashlib
import hmac
import re

from shopguard.desensitize import Desensitizer, KeyRing
from shopguard.desensitize.email import parse_email
from shopguard.desensitize.network import parse_ip, parse_user_agent
from shopguard.desensitize.phone import parse_phone
from shopguard.desensitize.schema import PSEUDONYMIZED
from shopguard.events import decode_event

KEYS = KeyRing({"k1": b"0123456789abcdef0123", "k2": b"fedcba9876543210fedc"}, "k1")


def test_pseudonym_is_hmac_sha256_under_the_tenant_key() -> None:
    got = KEYS.pseudonym("shop", "phone", "value")
    want = hmac.digest(KEYS.tenant_key("shop"), b"phone\0value", "sha256")[:16].hex()
    assert got == f"k1.{want}"


def test_pseudonyms_differ_by_tenant_kind_and_key() -> None:
    base = KEYS.pseudonym("a", "account", "42")
    assert base != KEYS.pseudonym("b", "account", "42")
    assert base != KEYS.pseudonym("a", "device", "42")
    rotated = KEYS.pseudonym("a", "account", "42", kid="k2")
    assert rotated.startswith("k2.") and rotated[3:] != base[3:]


def test_phone_segments_and_virtual_operators() -> None:
    for segment in ("170", "171", "162", "165", "167"):
        phone = parse_phone(f"{segment}12345678")
        assert phone.virtual and phone.segment == segment and phone.country == "CN"
    normal = parse_phone("+86 138-1234-5678")
    assert not normal.virtual and normal.mask == "138****5678"
    assert parse_phone("13812345678").identity == normal.identity
    uk = parse_phone("+44 7700 900123")
    assert uk.country == "GB" and not uk.virtual


def test_prehashed_phones_join_raw_ones() -> None:
    raw = parse_phone("13812345678")
    sha = hashlib.sha256(b"8613812345678").hexdigest()
    assert parse_phone(sha).identity == raw.identity
    md5 = parse_phone(hashlib.md5(b"13812345678").hexdigest().upper())
    assert md5.hashed and md5.identity.startswith("md5:") and md5.mask == "(hashed)"


def test_email_aliases_domain_and_disposable() -> None:
    assert parse_email("J.Doe+promo@Gmail.com").identity == parse_email("jdoe@gmail.com").identity
    assert parse_email("x@mailinator.com").disposable
    assert not parse_email("x@qq.com").disposable
    assert parse_email("alice@example.org").mask == "a***@example.org"


def test_ip_and_user_agent_derivations() -> None:
    ip = parse_ip("46.41.252.160")
    assert (ip.prefix, ip.version, ip.mask) == ("46.41.252.0/24", 4, "46.41.*.*")
    assert parse_ip("2001:db8:1:2:3::1").version == 6
    assert parse_user_agent("curl/8.0").bot
    assert parse_user_agent("Mozilla/5.0 HeadlessChrome/120").headless


def test_event_facts_hold_no_raw_values_and_drop_profile() -> None:
    event = decode_event(
        {
            "type": "payment",
            "event_id": "e1",
            "time": "2025-01-01T00:00:00Z",
            "tenant": "shop",
            "amount": 10,
            "account": "user-1",
            "phone": "17012345678",
            "email": "alice@example.org",
            "card": "6222 0212 3456 7890",
            "ip": "46.41.252.160",
            "address": "62857 Carlson Lane",
            "device": {"id": "dev-1", "emulator": True},
            "profile": {
                "name": "Alice Smith",
                "age": 33,
                "gender": "F",
                "id_number": "110101199001011234",
                "home_address": "1 Secret Rd",
            },
        }
    )
    facts, display = Desensitizer(KEYS)(event)
    # Pseudonyms are HMAC digests (whose hex may hold "33" by chance): the rest is scanned.
    assert all(re.fullmatch(r"k1\.[0-9a-f]{32}", facts[k]) for k in PSEUDONYMIZED if k in facts)
    clear = {k: v for k, v in facts.items() if k not in PSEUDONYMIZED}
    blob = repr(clear) + repr(display)
    for raw in (
        "user-1",
        "17012345678",
        "alice@example.org",
        "6222 0212 3456 7890",
        "6222021234567890",
        "46.41.252.160",
        "62857 Carlson Lane",
        "dev-1",
        "Alice Smith",
        "110101199001011234",
        "1 Secret Rd",
        "33",
    ):
        assert raw not in blob, raw
    assert facts["phone_virtual"] and facts["card_bin"] == "622202"
    assert facts["device_emulator"] and facts["email_domain"] == "example.org"
    assert display == {
        "ip": "46.41.*.*",
        "phone": "170****5678",
        "email": "a***@example.org",
        "card": "622202******7890",
        "address": "62***",
        "id_number": "11***34",
        "name": "A***",
    }
    assert "age" not in facts and "gender" not in facts


def test_http_path_loses_its_query_string() -> None:
    event = decode_event(
        {
            "type": "http.request",
            "event_id": "h",
            "tenant": "s",
            "time": "2025-01-01T00:00:00Z",
            "path": "/login?phone=13812345678&token=abc",
        }
    )
    facts, _ = Desensitizer(KEYS)(event)
    assert facts["path"] == "/login"
