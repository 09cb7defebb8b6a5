"""Idempotency: the event ids decided within the dedupe window, by event time."""

from __future__ import annotations

from collections import deque


class Dedupe:
    """``tenant + event_id`` -> the journal sequence of its decision, for ``window`` seconds
    of event time. A resent event is answered from the journal and applied only once."""

    def __init__(self, window: float) -> None:
        self.window = window
        self.seen: dict[str, int] = {}
        self.order: deque[tuple[float, str]] = deque()

    @staticmethod
    def key(tenant: str, event_id: str) -> str:
        return f"{tenant}\x1f{event_id}"

    def get(self, key: str) -> int | None:
        return self.seen.get(key)

    def remember(self, key: str, seq: int, when: float) -> list[int]:
        """Record a decided event; returns the sequences that fell out of the window."""
        self.seen[key] = seq
        order = self.order
        order.append((when, key))
        horizon = when - self.window
        expired: list[int] = []
        while order[0][0] < horizon:
            old = self.seen.pop(order.popleft()[1], None)
            if old is not None:
                expired.append(old)
        return expired
