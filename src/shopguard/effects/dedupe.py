"""Idempotency: the event ids each tenant decided within the dedupe window."""

from __future__ import annotations

from collections import deque


class Dedupe:
    """``tenant + event_id`` -> the journal sequence of its decision, for ``window``
    seconds. A resent event is answered from the journal and applied only once.

    Each tenant's ids age on that tenant's own time (the engine's *now*: the server clock
    live, the tenant's event time in replay), so no tenant's event, whatever time it
    claims, can push another tenant's ids out of the window.
    """

    def __init__(self, window: float) -> None:
        self.window = window
        self.seen: dict[str, int] = {}
        self.order: dict[str, deque[tuple[float, str]]] = {}  # per tenant, as remembered

    @staticmethod
    def key(tenant: str, event_id: str) -> str:
        return f"{tenant}\x1f{event_id}"

    def get(self, key: str) -> int | None:
        return self.seen.get(key)

    def remember(self, tenant: str, key: str, seq: int, when: float) -> list[int]:
        """Record a decided event of ``tenant`` at ``when``; returns the sequences of that
        tenant's ids that fell out of the window."""
        self.seen[key] = seq
        order = self.order.get(tenant)
        if order is None:
            order = self.order[tenant] = deque()
        order.append((when, key))
        horizon = when - self.window
        expired: list[int] = []
        while order[0][0] < horizon:
            old = self.seen.pop(order.popleft()[1], None)
            if old is not None:
                expired.append(old)
        return expired

    def latest(self) -> dict[str, float]:
        """Each tenant's time as of its last remembered event (list expiry in replay)."""
        return {tenant: order[-1][0] for tenant, order in self.order.items() if order}

    def __len__(self) -> int:
        return len(self.seen)
