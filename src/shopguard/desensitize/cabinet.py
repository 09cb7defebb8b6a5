"""Cabinet reconciliation: what a closed door's sensors say left, against what was billed.

A smart cabinet reports the items it billed, the weight each shelf lost and the RFID tags
that left. With the product catalog (sku -> unit weight, price, tagged or not) that
becomes facts rules can read: the weight nobody paid for, the tagged items nobody paid
for, and an estimate of the unbilled value. Tags written ``<sku>:<serial>`` are priced
as that product; bare tags at the catalog's median tagged price.
"""

from __future__ import annotations

from statistics import median
from typing import Any

import msgspec

from shopguard.events.catalog import CabinetSession
from shopguard.yamlio import convert_items


class Product(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    sku: str
    unit_weight_g: float
    price: float
    rfid: bool = False


class Catalog:
    def __init__(self, products: list[Product]) -> None:
        self.products = {p.sku: p for p in products}
        tagged = [p for p in products if p.rfid] or products
        loose = [p for p in products if not p.rfid] or products
        self.tag_price = median(p.price for p in tagged) if tagged else 0.0
        self.loose_weight = median(p.unit_weight_g for p in loose) if loose else 1.0
        self.loose_price = median(p.price for p in loose) if loose else 0.0

    @classmethod
    def from_doc(cls, doc: Any) -> Catalog | None:
        if not doc:
            return None
        return cls(convert_items(doc, "catalog", Product, "product", "sku", "catalog.yaml"))

    def reconcile(self, session: CabinetSession) -> dict[str, Any]:
        expected = 0.0
        billed_tagged = 0
        unknown = 0
        for item in session.billed:
            product = self.products.get(item.sku)
            if product is None:  # not in the catalog: assume it explains one tag, not a theft
                unknown += 1
                billed_tagged += item.quantity
                continue
            expected += product.unit_weight_g * item.quantity
            if product.rfid:
                billed_tagged += item.quantity
        removed = sum(s.weight_delta_g for s in session.shelves)
        unbilled_tags = session.rfid_missing[billed_tagged:]  # the first tags are the billed ones
        tag_value = 0.0
        tag_weight = 0.0
        for tag in unbilled_tags:
            product = self.products.get(tag.split(":", 1)[0]) if ":" in tag else None
            tag_value += product.price if product else self.tag_price
            tag_weight += product.unit_weight_g if product else 0.0
        gap = removed - expected
        # A billed product missing from the catalog has an unknown weight: no weight verdict.
        weighed = bool(session.shelves) and not unknown
        loose_gap = max(0.0, gap - tag_weight) if weighed else 0.0
        # Goods are whole units: a gap under half a typical loose item is scale noise.
        loose_units = round(loose_gap / self.loose_weight) if self.loose_weight else 0
        loose_value = loose_units * self.loose_price
        unbilled = round(tag_value + loose_value, 2)
        return {
            "expected_weight_g": round(expected, 1),
            "weight_gap_g": round(gap, 1) if weighed else None,
            "rfid_unbilled": len(unbilled_tags),
            "unbilled_value": unbilled,
            "unknown_skus": unknown,
            "amount_owed": owed(session, unbilled),
        }


def owed(session: CabinetSession, unbilled: float = 0.0) -> float:
    """What the shopper owes once the door closed: the bill if it was not paid, plus the
    goods that left unbilled (known only with a catalog)."""
    return round((0.0 if session.paid else session.amount) + unbilled, 2)
