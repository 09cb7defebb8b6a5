"""Idempotency across workers: an event id is claimed in Redis before its effects apply.

One key per tenant and event id, under the deployment's prefix and hash-tagged so a
Redis Cluster keeps it in one slot: ``<prefix>:claim:{<tenant>\\x1f<event id>}``. Its
value says where the event stands:

- ``P<worker>``: that worker is deciding it. It is kept as long as a decision would be
  (not a short expiry: a worker that died after its journal commit but before writing
  its decision here must not have its event decided again by whoever comes next);
  once it is older than ``claim_wait`` by Redis's own clock (its PTTL), the next
  worker to wait on it takes it over in one script, and looks the event up in the
  journal before deciding it (sharing.py);
- ``D<decision as JSON>``: decided and journaled, kept for the dedupe window: every
  worker answers a resend with this decision and applies nothing.

``SET key P<worker> NX GET PX <window>`` claims a free id or returns what holds it, in
one command; the claims of a batch go in one pipeline (with the change stream's read,
see ``peers``). A worker that finds an id pending asks again every few milliseconds
(``_ASK``: the decision, or the claim taken over once stale) until it reads the
decision or holds the claim.
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
# ARGV: mark, ttl ms, stale ms. Claim a free id, or take over another worker's pending
# claim older than ``stale`` by the server's clock (the TTL it was set with, which its
# mark ends with, less its PTTL): nil then (this worker holds it); else what holds it
# (a decision, a fresh pending mark, or this worker's own mark).
_ASK = """
local v = redis.call('get', KEYS[1])
if v and (string.sub(v, 1, 1) ~= 'P' or v == ARGV[1]) then return v end
if v then
  local ttl = tonumber(string.match(v, ':(%d+)$'))
  if not ttl or ttl - redis.call('pttl', KEYS[1]) <= tonumber(ARGV[3]) then return v end
end
redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false
"""


class Claims:
    """This worker's claims: those it holds (deciding now) and the decisions it owes."""

    def __init__(self, prefix: str, worker: str, wait: float, window: float) -> None:
        self.prefix = prefix
        self.wait = wait
        self._window_ms = max(1, int(window * 1000))
        self._stale_ms = max(1, int(wait * 1000))
        self._pending_ms = max(self._window_ms, self._stale_ms)
        # P<worker>:<its TTL>: whoever waits on it can tell its age from its PTTL
        self.mark = PENDING + f"{worker}:{self._pending_ms}".encode()
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
        deadline = time.monotonic() + 2 * self.wait + _POLL_S
        while True:
            time.sleep(_POLL_S)
            found = self.taken(key, ask(key))
            if not isinstance(found, bytes):
                return found
            if time.monotonic() > deadline:
                raise StateUnavailable("another worker is still deciding this event", self.wait)

    def ask(self, client: Any) -> Callable[[str], bytes | None]:
        """One ask: the claim's holder, or None once this worker holds it (free, or
        another worker's pending claim gone stale and taken over)."""
        script = client.register_script(_ASK)

        def one(key: str) -> bytes | None:
            args = [self.mark, self._pending_ms, self._stale_ms]
            reply: bytes | None = script(keys=[key], args=args)
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
