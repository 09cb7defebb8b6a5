"""Turn a decoded event into facts (pseudonyms + derived, non-PII values) and display masks.

Per-field policy, in one place:
- pseudonymize: account, device, ip (+ its /24), phone, email, card, address, id number,
  referrer, user agent (a fingerprinting vector), shipping address;
- pseudonymize the link signals (docs/events.md, "Link signals"): the phone's block, the
  canonical address and its building, the e-mail local part's shape at its domain, the
  device model with its OS, the IP /16 (IPv6 /32);
- mask for display: phone, email, card, ip, address, id number, name;
- derive before hashing: phone country / segment / virtual flag, e-mail domain and
  disposable flag, card BIN, IP version, user-agent bot hints;
- drop: name, age, gender, home address, ID photos (never stored in any form but a mask);
- custom attributes (shopguard.attributes): a personal one becomes a pseudonym (its
  kind ``attribute.<name>``) with a display mask; others are copied; an undeclared one
  (only if desensitize is called on an event not admitted) is dropped: it could be PII.
Business ids (campaign, coupon, sku, cabinet, merchant, order...) stay in clear.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import msgspec

from shopguard.desensitize.address import canonical_address
from shopguard.desensitize.cabinet import Catalog, owed
from shopguard.desensitize.campaigns import CampaignBook
from shopguard.desensitize.email import parse_email
from shopguard.desensitize.keys import KeyRing
from shopguard.desensitize.network import parse_ip, parse_user_agent
from shopguard.desensitize.phone import parse_phone, phone_block
from shopguard.errors import ConfigError
from shopguard.events.catalog import EVENT_CLASSES, BaseEvent, CabinetSession, Item

if TYPE_CHECKING:  # attributes imports desensitize.schema: no cycle at run time
    from shopguard.attributes import AttributeSpec

Facts = dict[str, Any]
Pseudo = Callable[[str, str], str]
Display = dict[str, str]

# Fields of BaseEvent that this module handles by hand (everything PII lives here).
_HANDLED = frozenset(
    {
        "event_id",
        "time",
        "tenant",
        "merchant",
        "channel",
        "account",
        "device",
        "ip",
        "phone",
        "email",
        "card",
        "address",
        "user_agent",
        "profile",
        "referrer",
        "attributes",
    }
)
# Scalar fields copied as they are; a list field becomes a count and a value sum.
_SCALARS = (str, int, float, bool)
# Kinds derived from another kind's raw value: a lookup of one derives from that value.
_DERIVED_FROM = {
    "ip24": "ip",
    "ip16": "ip",
    "phone_block": "phone",
    "address_building": "address",
    "email_pattern": "email",
}


def _copy_plan(cls: type[BaseEvent]) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    scalars: list[str] = []
    lists: list[str] = []
    for field in msgspec.structs.fields(cls):
        if field.name in _HANDLED:
            continue
        if field.name in ("billed", "items", "shelves", "rfid_missing"):
            lists.append(field.name)
        else:
            scalars.append(field.name)
    return str(cls.__struct_config__.tag), tuple(scalars), tuple(lists)


_PLANS = {cls: _copy_plan(cls) for cls in EVENT_CLASSES}


def _items_value(items: list[Item]) -> float:
    return round(sum(item.price * item.quantity for item in items), 2)


class Desensitizer:
    """Callable: ``facts, display = desensitize(event)``.

    Raw values live only for the duration of the call: nothing raw is cached or kept.
    (A memo of pseudonyms keyed by raw value was measured and did not pay for itself.)
    """

    def __init__(
        self,
        keys: KeyRing,
        default_region: str = "CN",
        utc_offset_s: int = 0,
        catalog: Catalog | None = None,
        campaigns: CampaignBook | None = None,
        phone_block_digits: int = 2,
        attributes: Mapping[str, AttributeSpec] | None = None,
    ) -> None:
        self.keys = keys
        # name -> the pseudonym kind and how its value is normalized first (None: copied)
        self.attributes: dict[str, tuple[str, bool] | None] = {
            name: (f"attribute.{name}", spec.type == "text") if spec.personal else None
            for name, spec in (attributes or {}).items()
        }
        self.phone_block_digits = phone_block_digits
        self.default_region = default_region
        self.utc_offset_s = utc_offset_s
        self.catalog = catalog
        self.budgets = campaigns.facts if campaigns is not None else {}

    def entity(self, tenant: str, kind: str, raw: str) -> str:
        """The pseudonym of one raw entity value (lists and lookups use this too): a raw
        address reaches its canonical pseudonym, a raw phone its block's for ``phone_block``,
        ``"<model>|<os>"`` (or a bare model) a ``device_model``."""
        part: Facts = {}
        self._derive(part, self.keys.for_tenant(tenant), _DERIVED_FROM.get(kind, kind), raw)
        if kind not in part:  # a pre-hashed phone has no block, a non-address no /16
            raise ConfigError(f"no {kind} derives from this value")
        return str(part[kind])

    def _derive(self, facts: Facts, pseudo: Pseudo, kind: str, raw: str) -> str | None:
        """Write the facts derived from one raw value of an entity kind into ``facts``;
        returns its display mask. ``pseudo(kind, value)`` is the tenant's pseudonym."""
        if kind == "ip":
            ip = parse_ip(raw)
            facts["ip"] = pseudo("ip", ip.identity)
            facts["ip24"] = pseudo("ip24", ip.prefix)
            if ip.network:
                facts["ip16"] = pseudo("ip16", ip.network)
            facts["ip_version"] = ip.version
            return ip.mask
        if kind == "phone":
            phone = parse_phone(raw, self.default_region)
            facts["phone"] = pseudo("phone", phone.identity)
            facts["phone_country"] = phone.country
            facts["phone_segment"] = phone.segment
            facts["phone_virtual"] = phone.virtual
            facts["phone_hashed"] = phone.hashed
            if phone.e164 is not None:
                block = phone_block(phone.e164, self.phone_block_digits)
                facts["phone_block"] = pseudo("phone_block", block)
            return phone.mask
        if kind == "email":
            email = parse_email(raw)
            facts["email"] = pseudo("email", email.identity)
            facts["email_domain"] = email.domain
            facts["email_disposable"] = email.disposable
            if email.pattern:
                facts["email_pattern"] = pseudo("email_pattern", email.pattern)
            return email.mask
        if kind == "card":
            digits = _normalize("card", raw)
            facts["card"] = pseudo("card", digits)
            if digits.isdigit() and 12 <= len(digits) <= 19:
                facts["card_bin"] = digits[:6]
                return f"{digits[:6]}******{digits[-4:]}"
            return "(hashed)"
        if kind == "address":
            address = canonical_address(raw)
            facts["address"] = pseudo("address", address.canonical)
            facts["address_building"] = pseudo("address_building", address.building)
            return _mask_text(raw)
        if kind == "user_agent":
            ua = parse_user_agent(raw)
            facts["user_agent"] = pseudo("ua", raw)
            facts["ua_bot"] = ua.bot
            facts["ua_headless"] = ua.headless
            return None
        if kind == "id_number":
            facts["id_number"] = pseudo("id_number", _normalize(kind, raw))
            return _mask_text(raw, keep_tail=2)
        if kind == "referrer":
            facts["referrer"] = pseudo("account", raw)
            return None
        if kind == "device_model":
            model, _, os = raw.partition("|")
            facts["device_model"] = pseudo("device_model", _model_key(model, os or None))
            return None
        facts[kind] = pseudo(kind, raw)  # account, device
        return None

    def __call__(self, event: BaseEvent) -> tuple[Facts, Display]:
        tenant = event.tenant
        part = self._derive
        ts = event.time.timestamp()
        event_type, scalars, lists = _PLANS[type(event)]
        facts: Facts = {
            "event_id": event.event_id,
            "type": event_type,
            "time": ts,
            "hour": int((ts + self.utc_offset_s) % 86400 // 3600),
            "tenant": tenant,
            "merchant": event.merchant,
            "channel": event.channel,
        }
        display: Display = {}
        pseudo = self.keys.for_tenant(tenant)
        if event.account is not None:
            facts["account"] = pseudo("account", event.account)
        device = event.device
        if device is not None:
            facts["device"] = pseudo("device", device.id)
            facts["device_emulator"] = device.emulator
            facts["device_rooted"] = device.rooted
            facts["device_hooked"] = device.hooked
            facts["device_proxy"] = device.proxy
            facts["device_os"] = device.os
            if device.model is not None:
                facts["device_model"] = pseudo("device_model", _model_key(device.model, device.os))
        for kind in ("ip", "phone", "email", "card", "address", "user_agent"):
            raw = getattr(event, kind)
            if raw is not None:
                mask = part(facts, pseudo, kind, raw)
                if mask is not None:
                    display[kind] = mask
        profile = event.profile
        if profile is not None:
            # age, gender, home address and ID photos are dropped: never stored, not even masked.
            if profile.id_number is not None:
                display["id_number"] = part(facts, pseudo, "id_number", profile.id_number) or ""
            if profile.name is not None:
                display["name"] = profile.name[:1] + "*" * min(len(profile.name) - 1, 3)
        if event_type == "account.register":
            referrer = getattr(event, "referrer", None)
            if referrer is not None:
                part(facts, pseudo, "referrer", referrer)
        for name in scalars:
            facts[name] = getattr(event, name)
        if event.attributes is not None:
            self._attributes(facts, display, pseudo, event.attributes)
        for name in lists:
            self._lists(facts, name, getattr(event, name))
        if self.budgets and "campaign" in facts:
            facts.update(self.budgets.get(facts["campaign"], ()))
        if isinstance(event, CabinetSession):
            if self.catalog is not None:
                facts.update(self.catalog.reconcile(event))
            else:
                facts["amount_owed"] = owed(event)
        if "path" in facts:
            # Query strings carry tokens, phones and e-mails: only the path itself is kept.
            facts["path"] = facts["path"].split("?", 1)[0][:256]
        return facts, display

    def _attributes(
        self, facts: Facts, display: Display, pseudo: Pseudo, sent: dict[str, Any]
    ) -> None:
        declared = self.attributes
        for name, value in sent.items():
            if name not in declared:
                continue  # not admitted: undeclared, so possibly personal
            personal = declared[name]
            if personal is None or value is None:
                facts[name] = value
                continue
            kind, text = personal
            raw = str(value)
            facts[name] = pseudo(kind, " ".join(raw.casefold().split()) if text else raw)
            display[name] = _mask_text(raw) if len(raw) >= 6 else "***"

    @staticmethod
    def _lists(facts: Facts, name: str, values: list[Any]) -> None:
        if name in ("items", "billed"):
            facts[f"{name}_count"] = sum(item.quantity for item in values)
            facts[f"{name}_value"] = _items_value(values)
        elif name == "shelves":
            facts["weight_removed_g"] = round(sum(s.weight_delta_g for s in values), 1)
        elif name == "rfid_missing":
            facts["rfid_missing_count"] = len(values)


def _normalize(kind: str, raw: str) -> str:
    if kind == "card":
        text = raw.strip().lower()
        if text.isdigit() or _is_hex(text):
            return text
        return "".join(ch for ch in text if ch.isdigit())
    return " ".join(raw.lower().split())


def _model_key(model: str, os: str | None) -> str:
    """One spelling of a model and its OS: "SM-G9910 " on "Android" is "sm-g9910|android"."""
    return f"{' '.join(model.casefold().split())}|{' '.join((os or '').casefold().split())}"


def _is_hex(text: str) -> bool:
    return len(text) in (32, 64) and all(ch in "0123456789abcdef" for ch in text)


def _mask_text(raw: str, keep_tail: int = 0) -> str:
    text = raw.strip()
    tail = text[-keep_tail:] if keep_tail else ""
    return f"{text[:2]}***{tail}"
