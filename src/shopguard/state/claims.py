"""Idempotency across workers: an event id is claimed in Redis before its effects apply.

One key per tenant and event id, under the deployment's prefix and hash-tagged so a
Redis Cluster keeps it in one slot: ``<prefix>:claim:{<tenant>\\x1f<event id>}``. Its
value says where the event stands:

- ``P<worker>``: that worker is deciding it. It expires after ``claim_wait``, so the
  claim of a worker that died before deciding is taken over by the next one to ask;
- ``D<decision as JSON>``: decided and journaled, kept for the dedupe window: every
  worker answers a resend with this decision and applies nothing.

``SET key P<worker> NX GET PX claim_wait`` claims a free id or returns what holds it, in
one command; the claims of a batch go in one pipeline (with the change stream's read,
see ``peers``). A worker that finds an id pending asks again every few milliseconds,
up to ``claim_wait``, until it reads the decision or takes the claim over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from shopguard.decision import Decision, decision_decoder, decision_encoder
from shopguard.errors import StateUnavailable

PENDING, DECIDED = b"P", b"D"
_POLL_S = 0.005  # between asks while another worker decides the event
# delete the claim only while it is still this worker's (a refused batch lets go)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end"


class Claims:
    """This worker's claims: those it holds (deciding now) and the decisions it owes."""

    def __init__(self, prefix: str, worker: str, wait: float, window: float) -> None:
        self.prefix = prefix
        self.mark = PENDING + worker.encode()
        self.wait = wait
        self._pending_ms = max(1, int(wait * 1000))
        self._window_ms = max(1, int(window * 1000))
        self.held: set[str] = set()  # claimed by this worker, not yet decided
        self.owed: list[tuple[str, bytes]] = []  # decided in this batch: written once journaled
        self.unsent: list[tuple[str, bytes]] = []  # journaled, not yet written (Redis down)

    def key(self, tenant: str, event_id: str) -> str:
        return f"{self.prefix}:claim:{{{tenant}\x1f{event_id}}}"

    def queue(self, pipe: Any, keys: list[str]) -> None:
        """Claim each key (one command each, in ``pipe``)."""
        for key in keys:
            pipe.set(key, self.mark, nx=True, get=True, px=self._pending_ms)

    def taken(self, key: str, reply: bytes | None) -> Decision | bytes | None:
        """What a claim's reply means: None, this worker holds it now (decide it); the
        decision another worker made; or the pending mark of the worker deciding it."""
        if reply is None or reply == self.mark:  # its own: a batch that could not let go
            self.held.add(key)
            return None
        if reply.startswith(DECIDED):
            return decision_decoder.decode(reply[1:])
        return reply

    def await_decision(self, key: str, ask: Callable[[str], bytes | None]) -> Decision | None:
        """Ask again until the other worker's decision is there (returned) or its claim
        expired and is now this worker's (None). ``ask`` sends one claim command.
        Raises StateUnavailable past ``claim_wait`` (a claim taken over meanwhile by a
        third worker that is still deciding)."""
        deadline = time.monotonic() + self.wait + _POLL_S
        while True:
            time.sleep(_POLL_S)
            found = self.taken(key, ask(key))
            if not isinstance(found, bytes):
                return found
            if time.monotonic() > deadline:
                raise StateUnavailable("another worker is still deciding this event", self.wait)

    def ask(self, client: Any) -> Callable[[str], bytes | None]:
        def one(key: str) -> bytes | None:
            reply: bytes | None = client.set(key, self.mark, nx=True, get=True, px=self._pending_ms)
            return reply

        return one

    def decided(self, key: str, decision: Decision) -> None:
        """This worker decided a key it held: its decision goes into the claim after
        the journal commit."""
        if key in self.held:
            self.held.discard(key)
            self.owed.append((key, DECIDED + decision_encoder.encode(decision)))

    def committed(self) -> None:
        """The batch was journaled: its decisions are owed to their claims (a claim it
        held and answered otherwise, from the journal, expires after ``claim_wait``)."""
        self.unsent.extend(self.owed)
        self.owed, self.held = [], set()

    def queue_settle(self, pipe: Any) -> int:
        """Write the journaled decisions into their claims, kept for the dedupe window."""
        for key, value in self.unsent:
            pipe.set(key, value, px=self._window_ms)
        return len(self.unsent)

    def settled(self) -> None:
        self.unsent.clear()

    def release(self, client: Any) -> None:
        """A refused batch: let go of what this worker still holds (only what is still
        its own), so a retry elsewhere need not wait for the claims to expire."""
        held = self.held | {key for key, _ in self.owed}
        self.held, self.owed = set(), []
        if held:
            pipe = client.pipeline(transaction=False)
            for key in held:
                pipe.eval(_RELEASE, 1, key, self.mark)
            pipe.execute()
