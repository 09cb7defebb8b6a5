"""The link graph's settings, from a pack's links.yaml (docs/features.md, "Rings").

A link kind is a fact naming a value several accounts may use (a device id, a card, a
phone block...). Its ``cap`` says how many accounts may share one value in the window
before the value is a hub (a big office's NAT, a mall's Wi-Fi, a popular phone model):
hubs join everyone to everyone, so they are never walked nor counted as shared. Kinds
switched off are not stored at all. The ring read is bounded by ``ring_cap`` accounts
and ``visit_budget`` edges looked at, whatever the graph.
"""

from __future__ import annotations

from typing import Any

import msgspec

from shopguard.errors import ConfigError
from shopguard.features.spec import parse_duration

# The facts that can join accounts (some come from desensitize's link signals; an event
# lacking one simply has no link of that kind).
LINK_KINDS = (
    "device",
    "card",
    "phone",
    "phone_block",
    "address",
    "address_building",
    "email",
    "email_pattern",
    "ip",
    "ip16",
    "user_agent",
    "device_model",
    "referrer",
)
# Every event's ring values, as of before it; plus ring_shared_<kind> per kind switched on.
RING_VALUES = (
    "ring_accounts",
    "ring_new_accounts_24h",
    "ring_claims",
    "ring_redeems",
    "ring_denied_share",
    "ring_fraud_share",
    "ring_age",
    "ring_link_kinds",
)
SHARED = "ring_shared_"


class LinkKind(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    kind: str
    cap: int  # more accounts than this on one value in the window: a hub, not walked
    enabled: bool = True


class LinkConfig(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    window: float = 7 * 86400.0  # edges, claims and redeems older than this are gone
    memory: float = 30 * 86400.0  # an account idle this long is forgotten (first seen, flags)
    ring_cap: int = 200  # accounts a ring read collects at most
    visit_budget: int = 4000  # edges a ring read looks at, at most
    account_links: int = 32  # link values kept per account (its oldest go first)
    claims_kept: int = 64  # claim and redeem times kept per account
    kinds: tuple[LinkKind, ...] = ()

    @property
    def enabled(self) -> tuple[LinkKind, ...]:
        return tuple(k for k in self.kinds if k.enabled)


def ring_names(config: LinkConfig) -> tuple[str, ...]:
    """The names of the values a ring read gives under ``config``."""
    return (*RING_VALUES, *(SHARED + k.kind for k in config.enabled))


_SETTINGS = ("window", "memory", "ring_cap", "visit_budget", "account_links", "claims_kept")


def load_links(doc: Any, where: str = "links.yaml") -> LinkConfig:
    """links.yaml (merged over the packs it extends) as a config; {} or None: no links."""
    if not doc:
        return LinkConfig()
    if not isinstance(doc, dict):
        raise ConfigError("links.yaml must be a mapping", where)
    unknown = set(doc) - {*_SETTINGS, "links"}
    if unknown:
        raise ConfigError(f"unknown settings {sorted(unknown)}", where)
    options: dict[str, Any] = {}
    for name in ("window", "memory"):
        if name in doc:
            options[name] = parse_duration(doc[name])
    for name in _SETTINGS[2:]:
        if name in doc:
            options[name] = doc[name]
    try:
        kinds = msgspec.convert(doc.get("links") or [], tuple[LinkKind, ...])
        config = msgspec.convert(options, LinkConfig)
    except msgspec.ValidationError as exc:
        raise ConfigError(f"invalid links: {exc}", where) from None
    bad = [k.kind for k in kinds if k.kind not in LINK_KINDS]
    if bad:
        raise ConfigError(f"unknown link kinds {bad}; known: {', '.join(LINK_KINDS)}", where)
    if len({k.kind for k in kinds}) != len(kinds):
        raise ConfigError("a link kind is listed twice", where)
    if any(k.cap < 1 for k in kinds if k.enabled):
        raise ConfigError("a link kind's cap must be at least 1", where)
    if config.window <= 0 or config.memory < config.window:
        raise ConfigError("window must be positive and memory at least the window", where)
    if min(config.ring_cap, config.visit_budget, config.account_links, config.claims_kept) < 1:
        raise ConfigError("ring_cap, visit_budget, account_links, claims_kept must be >= 1", where)
    return msgspec.structs.replace(config, kinds=kinds)
