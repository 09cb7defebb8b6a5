"""Open items per key: amounts owed by ``first`` events until a ``then`` event settles them.

An unpaid cabinet session opens a debt (keyed by the account, identified by its
session id); a payment whose order id names that session settles it. The feature is the
total still open, within the window, as of before the event.
"""

from __future__ import annotations

from typing import Any


class Outstanding:
    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: dict[str, tuple[float, float]] = {}  # item id -> (opened at, amount)

    def open(self, item: str, t: float, amount: float, retention: float, max_items: int) -> None:
        items = self.items
        items.pop(item, None)
        items[item] = (t, amount)
        stale = [k for k, (when, _) in items.items() if when <= t - retention]
        for k in stale:
            del items[k]
        while len(items) > max_items:
            del items[next(iter(items))]

    def settle(self, item: str) -> bool:
        return self.items.pop(item, None) is not None

    def total(self, cutoff: float) -> float:
        return sum(amount for when, amount in self.items.values() if when > cutoff)


def item_id(facts: dict[str, Any], name: str) -> str | None:
    value = facts.get(name)
    return None if value is None else str(value)
