"""The search box: an event id, a rule id, a ring id, or an entity's raw value.

A raw value is pseudonymized on the spot with the tenant's key (the engine's
``Desensitizer.entity``) and dropped: it is posted, never put in a URL, stored or logged,
and the answer names only the pseudonym. "auto" tries every reading the text allows
and keeps those that exist; a kind chosen in the select is taken as said."""

from __future__ import annotations

import ipaddress
from urllib.parse import quote

import msgspec

from shopguard.console.queries import ConsoleQueries
from shopguard.console.rings import RingShelf
from shopguard.engine import Engine
from shopguard.errors import InvalidEvent
from shopguard.events.catalog import is_id

RAW_KINDS = ("account", "device", "phone", "email", "card", "ip", "address", "id_number")
SEARCH_KINDS = ("auto", "event", "ring", "rule", *RAW_KINDS)


class Hit(msgspec.Struct, frozen=True):
    what: str  # decision, ring, rule, entity
    label: str  # what the page shows: ids, or kind and shortened pseudonym
    href: str


def guessed_kinds(text: str) -> list[str]:
    """The entity kinds a raw value may be, most likely first."""
    if "@" in text:
        return ["email"]
    try:
        ipaddress.ip_address(text.strip())
    except ValueError:
        pass
    else:
        return ["ip"]
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and all(ch.isdigit() or ch in " +-()" for ch in text.strip()):
        kinds = ["phone"] if 7 <= len(digits) <= 15 else []
        return kinds + (["card"] if 12 <= len(digits) <= 19 else []) + ["account"]
    kinds = ["account", "device"]
    if " " in text.strip() or any(ord(ch) > 127 for ch in text):
        kinds.append("address")
    if len(text) in (15, 18) and text[:-1].isdigit():
        kinds.append("id_number")
    return kinds


def entity_href(kind: str, pseudonym: str) -> str:
    return f"/console/entities/{quote(kind, safe='')}/{quote(pseudonym, safe='')}"


def find(
    engine: Engine, journal: ConsoleQueries, shelf: RingShelf, tenant: str, text: str, kind: str
) -> list[Hit]:
    """What ``text`` names in the tenant's data (``kind``: one of SEARCH_KINDS)."""
    text = text.strip()
    if not text or not is_id(text, 256):
        return []
    hits: list[Hit] = []
    if kind in ("auto", "event") and engine.find(tenant, text) is not None:
        hits.append(Hit("decision", text, f"/console/decisions/{quote(text, safe='')}"))
    if kind in ("auto", "ring") and shelf.ring(tenant, text) is not None:
        hits.append(Hit("ring", text, f"/console/rings/{quote(text, safe='')}"))
    if kind in ("auto", "rule") and _is_rule(engine, journal, tenant, text, kind == "rule"):
        hits.append(Hit("rule", text, f"/console/rule/{quote(text, safe='')}"))
    kinds = guessed_kinds(text) if kind == "auto" else [kind] if kind in RAW_KINDS else []
    for raw_kind in kinds:
        try:
            pseudonym = engine.desensitize.entity(tenant, raw_kind, text)
        except (InvalidEvent, ValueError, KeyError):
            continue  # not a value of that kind (an IP that does not parse)
        entity = f"{raw_kind}:{pseudonym}"
        if kind == "auto" and not journal.timeline(tenant, entity, limit=1).decisions:
            continue
        hits.append(Hit("entity", f"{raw_kind} {pseudonym}", entity_href(raw_kind, pseudonym)))
    return hits


def _is_rule(engine: Engine, journal: ConsoleQueries, tenant: str, text: str, chosen: bool) -> bool:
    running = [engine.rules, *([engine.challenger] if engine.challenger else [])]
    if any(r.id == text for rules in running for r in rules.rules):
        return True
    if text.startswith("list:") and chosen:
        return True
    return bool(journal.rule_hits(tenant, text, limit=1).decisions)
