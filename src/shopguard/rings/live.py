"""The serving engine's side of the ring book: ``ring_score`` and ``ring_size`` per event,
and ring membership as watch-list entries.

The book is a file the batch run replaces atomically; the engine looks at its mtime at
most every ``CHECK_EVERY_S`` seconds of wall clock (one stat), so serving never waits on
it. A new book's members go on the watch list (kind account, source ``rings``, the ring
and what it shares as the reason) and members of rings no longer in the book come off,
as list ops through the journal like every other list change: staged with the batch
being decided, durable with its commit, undone with it (the lists are then rebuilt from
the journal, and the next event syncs them again).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

import msgspec

from shopguard.desensitize.schema import NUM
from shopguard.lists.store import AddEntry, ListEntry, ListStore, RemoveEntry
from shopguard.lists.store import ops_encoder as list_ops_encoder
from shopguard.rings.book import Ring, RingBook, load_book
from shopguard.state import DecisionLog

# What rules and the model may read: 0.0 and 0 for an account in no ring.
RING_TYPES = {"ring_score": NUM, "ring_size": NUM}
CHECK_EVERY_S = 2.0
SOURCE = "rings"
_NONE = (0.0, 0)


def watch_reason(ring: Ring) -> str:
    """What an analyst reads on the entry: "ring R-1a2b (12 accounts, score 0.81)
    shares 3 address, 1 phone_block"."""
    shared = ", ".join(f"{n} {kind}" for kind, n in sorted(ring.link_types.items()))
    return f"ring {ring.ring_id} ({ring.size} accounts, score {ring.score:.2f}) shares {shared}"


class RingWatch:
    def __init__(
        self,
        path: Path,
        check_every_s: float = CHECK_EVERY_S,
        wall: Callable[[], float] = time.monotonic,
    ) -> None:
        self.path = path
        self.book: RingBook | None = None
        self._every = check_every_s
        self._wall = wall
        self._next = wall() + check_every_s
        self._stamp: tuple[int, int] | None = None  # (mtime_ns, size) of the book taken
        self._index: dict[tuple[str, str], tuple[float, int]] = {}
        self._synced: ListStore | None = None  # the lists holding this book's entries
        self._take()  # at start; its watch entries with the first event decided

    def of(self, tenant: str, account: str | None) -> tuple[float, int]:
        """(ring_score, ring_size) of the account."""
        if account is None or not self._index:
            return _NONE
        return self._index.get((tenant, account), _NONE)

    def poll(self, lists: ListStore, log: DecisionLog, now: float) -> None:
        """Take a new book when its file changed (checked every few seconds), and keep the
        lists' ring entries in step with the book taken."""
        wall = self._wall()
        if wall >= self._next:
            self._next = wall + self._every
            self._take()
        if lists is not self._synced:
            self.sync(lists, log, now)

    def _take(self) -> None:
        try:
            stat = os.stat(self.path)
        except FileNotFoundError:
            stat = None
        stamp = None if stat is None else (stat.st_mtime_ns, stat.st_size)
        if stamp == self._stamp:
            return
        try:
            book = load_book(self.path)
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            return  # a broken file leaves the book taken before: looked at again later
        self._stamp, self.book = stamp, book
        rings = book.rings if book is not None else []
        self._index = {(r.tenant, m): (r.score, r.size) for r in rings for m in r.members}
        self._synced = None

    def sync(self, lists: ListStore, log: DecisionLog, now: float) -> int:
        """Stage the list ops that make the lists' ring entries those of the book; returns
        how many."""
        wanted: dict[tuple[str, str], str] = {}
        for ring in self.book.rings if self.book is not None else []:
            reason = watch_reason(ring)
            for member in ring.members:
                wanted[(ring.tenant, member)] = reason
        ops: list[AddEntry | RemoveEntry] = []
        held: set[tuple[str, str]] = set()  # in step already, or another's entry: kept
        for entry in list(lists.entries()):
            if entry.list != "watch" or entry.kind != "account":
                continue
            where = (entry.tenant, entry.value)
            if entry.source != SOURCE or wanted.get(where) == entry.reason:
                held.add(where)
            elif where not in wanted:
                ops.append(RemoveEntry("watch", "account", entry.value, entry.tenant))
        for (tenant, member), reason in wanted.items():
            if (tenant, member) not in held:  # new, or its ring changed: replaced
                entry = ListEntry("watch", "account", member, None, reason, SOURCE, now, tenant)
                ops.append(AddEntry(entry))
        for op in ops:
            log.append_list_op(list_ops_encoder.encode(op))
            lists.apply(op)
        self._synced = lists
        return len(ops)
