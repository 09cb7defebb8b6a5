"""Idempotency: the event ids each tenant decided within the dedupe window."""

from __future__ import annotations

from collections import deque

_BUCKET = 1.0  # seconds of remembered time one bucket spans


class Dedupe:
    """``tenant + event_id`` -> the journal sequence of its decision, for ``window``
    seconds. A resent event is answered from the journal and applied only once.

    Each tenant's ids age on that tenant's own time (the engine's *now*: the server clock
    live, the tenant's event time in replay), so no tenant's event, whatever time it
    claims, can push another tenant's ids out of the window.
    """

    def __init__(self, window: float, max_ids: int = 0) -> None:
        self.window = window
        self.max_ids = max_ids  # 0: no bound but the window
        self.seen: dict[str, int] = {}
        # Per tenant, the time up to which ids were let go early (past ``max_ids``) while
        # still inside the window: the engine asks the journal about a miss until then.
        self.spilled: dict[str, float] = {}
        # per tenant: (start, ids) buckets of up to a second of remembered time, oldest
        # first; one tuple per bucket, not per id (a third of the window's memory)
        self.order: dict[str, deque[tuple[float, list[str]]]] = {}

    @staticmethod
    def key(tenant: str, event_id: str) -> str:
        return f"{tenant}\x1f{event_id}"

    def get(self, key: str) -> int | None:
        return self.seen.get(key)

    def remember(self, tenant: str, key: str, seq: int, when: float) -> list[int]:
        """Record a decided event of ``tenant`` at ``when``; returns the sequences of that
        tenant's ids that fell out of the window (up to a second late: never early)."""
        self.seen[key] = seq
        order = self.order.get(tenant)
        if order is None:
            order = self.order[tenant] = deque()
        if order and order[-1][0] <= when < order[-1][0] + _BUCKET:
            order[-1][1].append(key)
        else:
            order.append((when, [key]))
        horizon = when - self.window - _BUCKET
        expired: list[int] = []
        while order[0][0] < horizon:
            self._drop(order.popleft()[1], expired)
        if self.max_ids and len(self.seen) > self.max_ids:
            self._spill(expired)
        return expired

    def _drop(self, keys: list[str], expired: list[int]) -> None:
        for old_key in keys:
            old = self.seen.pop(old_key, None)
            if old is not None:
                expired.append(old)

    def _spill(self, expired: list[int]) -> None:
        """Past ``max_ids``, let the oldest second of ids go (any tenant's, oldest
        first), remembering until when, so a resend of one is looked up in the journal."""
        while len(self.seen) > self.max_ids:
            tenant, order = min(
                ((t, o) for t, o in self.order.items() if len(o) > 1),
                key=lambda item: item[1][0][0],
                default=(None, None),
            )
            if tenant is None or order is None:
                return  # only the newest buckets are left: they stay
            start, keys = order.popleft()
            self._drop(keys, expired)
            self.spilled[tenant] = max(self.spilled.get(tenant, 0.0), start + _BUCKET)

    def spilled_after(self, tenant: str, now: float) -> bool:
        """Whether ids of ``tenant`` still inside the window at ``now`` were let go early
        (a miss must then be asked of the journal)."""
        until = self.spilled.get(tenant)
        if until is None:
            return False
        if until < now - self.window:  # every id let go early has aged out since
            del self.spilled[tenant]
            return False
        return True

    def latest(self) -> dict[str, float]:
        """Each tenant's time as of its last remembered event, to the second (list
        expiry in replay)."""
        return {tenant: order[-1][0] for tenant, order in self.order.items() if order}

    def __len__(self) -> int:
        return len(self.seen)
