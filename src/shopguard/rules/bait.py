"""Bait: decoy coupons, campaigns, products and endpoints that no honest shopper meets.

A pack's ``bait.yaml`` declares them; each becomes an ordinary rule (so it is checked,
indexed, traced and reported like any other) that denies the event and lists the
entities behind it with the reason ``bait``. Because the device, IP and phone are listed
too, any other account that shows up on them later is caught by the list check.

```yaml
bait:
  - id: staff_coupon
    description: a coupon code that was never published
    coupon: [STAFF-ONLY-999]
    list: {add: deny, entity: [account, device, ip, phone], ttl: 30d}
```
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from shopguard.errors import ConfigError
from shopguard.yamlio import convert_items

# Where each decoy kind can be met: the event types carrying that fact.
CARRIERS = {
    "coupon": ["promo.claim", "promo.redeem", "order.create"],
    "campaign": ["promo.claim", "promo.redeem", "lottery.draw", "flashsale.order"],
    "sku": ["flashsale.order", "product.verify"],
    "product_code": ["product.verify"],
    "path": ["http.request"],
}


class BaitList(msgspec.Struct, forbid_unknown_fields=True):
    add: Literal["deny", "watch"] = "deny"
    entity: list[str] = msgspec.field(default_factory=lambda: ["account", "device", "ip", "phone"])
    ttl: str = "30d"


class Bait(msgspec.Struct, forbid_unknown_fields=True):
    id: str
    description: str = ""
    coupon: list[str] = []
    campaign: list[str] = []
    sku: list[str] = []
    product_code: list[str] = []
    path: list[str] = []
    action: Literal["deny", "review"] = "deny"
    listing: BaitList = msgspec.field(default_factory=BaitList, name="list")


def bait_rules(doc: Any, source: str = "bait.yaml") -> list[dict[str, Any]]:
    """The rule declarations (as in rules.yaml) that a bait document stands for."""
    if not doc:
        return []
    rules = []
    for bait in convert_items(doc, "bait", Bait, "bait", "id", source):
        matches = {kind: getattr(bait, kind) for kind in CARRIERS if getattr(bait, kind)}
        if not matches:
            raise ConfigError(
                "declares no coupon, campaign, sku, product_code or path", f"bait {bait.id}"
            )
        on = sorted({t for kind in matches for t in CARRIERS[kind]})
        when = " or ".join(f"{kind} in {sorted(values)!r}" for kind, values in matches.items())
        rules.append(
            {
                "id": f"bait_{bait.id}",
                "on": on,
                "when": when,
                "action": bait.action,
                "score": 100,
                "reason": f"bait: touched decoy {bait.id}",
                "tags": ["bait"],
                "description": bait.description,
                "list": {
                    "add": bait.listing.add,
                    "entity": list(bait.listing.entity),
                    "ttl": bait.listing.ttl,
                },
            }
        )
    return rules
