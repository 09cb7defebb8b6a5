"""The change stream: list operations and link facts every worker must see.

Each worker keeps its lists (strikes included) and its link graph in memory. With a
shared state store, what changes them must reach the other workers: each commit
publishes its batch's list operations and, per decided event with an account, the facts
the link graph folds (tenant, time, type, account, verdict, the link values: pseudonyms
only) as one entry of a Redis Stream per deployment, ``<prefix>:changes``, trimmed to
about ``KEEP`` entries (``XADD MAXLEN ~``).

Each worker follows the stream from the last entry it read: the read rides in the
pipeline of every batch's claims (``peers``), so it costs no round trip of its own, and
the other workers' entries are folded in before the batch is judged, in this worker's
thread (no lock: nothing else touches lists or the graph). A worker that decides nothing
reads nothing; it catches up with its next decision or list change.

A starting worker loads lists from the journal (shared by the workers: PostgreSQL) and
then the stream's entries after the one that was newest before it read them, skipping
the ops the journal gave it (the same bytes: applied twice, an entry would count two
strikes); it takes the link graph from the stream: the newest snapshot
(``<prefix>:links``, written at each checkpoint after catching up) and every retained
entry after it.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec

from shopguard.links import LinkGraph
from shopguard.links.persist import decode_graph, encode_graph
from shopguard.lists.store import ListStore, ops_decoder

log = logging.getLogger("shopguard.state")
KEEP = 50_000  # stream entries (one per batch) kept, about: the graph's snapshot covers older
_READ = 10_000  # entries read at a time
_LINK_FACTS = ("tenant", "time", "type", "account", "verdict")


class Entry(msgspec.Struct, array_like=True):
    worker: str
    ops: list[bytes]  # list operations, as journaled
    events: list[tuple[dict[str, Any], int]]  # (link facts, outcome)
    erased: list[tuple[str, str, str]] = []  # (tenant, kind, pseudonym): forget them


class Snapshot(msgspec.Struct, array_like=True):
    last: str  # the stream entry it includes everything up to
    graph: bytes  # links.persist


_entry_encoder, _entry_decoder = msgspec.msgpack.Encoder(), msgspec.msgpack.Decoder(Entry)
_snap_decoder = msgspec.msgpack.Decoder(Snapshot)


def _decoded(fields: dict[bytes, bytes]) -> Entry | None:
    """An entry's body; None (logged) for one this version cannot read, which is
    skipped rather than stopping every decision."""
    try:
        return _entry_decoder.decode(fields.get(b"b", b""))
    except msgspec.DecodeError as exc:
        log.warning("change stream entry skipped: %s", exc)
        return None


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq or 0)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Changes:
    """This worker's side of the stream: what it stages and publishes, where it read to."""

    def __init__(self, prefix: str, worker: str, links: LinkGraph) -> None:
        self.stream = f"{prefix}:changes"
        self.snapshot_key = f"{prefix}:links"
        self.worker = worker
        self.last = "0-0"  # the last entry read (folded, or this worker's own)
        self._facts = (*_LINK_FACTS, *links.facts)
        self._ops: list[bytes] = []  # this batch's
        self._events: list[tuple[dict[str, Any], int]] = []
        self.unsent: list[bytes] = []  # journaled batches' entries a failed write left
        self.folded = 0  # others' entries folded in: for tests and metrics

    # -- publishing ---------------------------------------------------------------------
    def event(self, facts: dict[str, Any], outcome: int) -> None:
        """Stage what the link graph folds of a decided event (nothing without account)."""
        if facts.get("account") is not None:
            kept = {k: facts[k] for k in self._facts if facts.get(k) is not None}
            self._events.append((kept, outcome))

    def list_op(self, raw: bytes) -> None:
        self._ops.append(raw)

    def committed(self) -> None:
        """The batch was journaled: its changes are owed to the stream (after any a
        failed write left, oldest first, at most ``KEEP``)."""
        if self._ops or self._events:
            self.unsent.append(_entry_encoder.encode(Entry(self.worker, self._ops, self._events)))
            del self.unsent[:-KEEP]
        self.drop()

    def queue_publish(self, pipe: Any) -> bool:
        """One XADD per owed entry; whether there is anything to send."""
        for body in self.unsent:
            pipe.xadd(self.stream, {"b": body}, maxlen=KEEP, approximate=True)
        return bool(self.unsent)

    def published(self) -> None:
        self.unsent.clear()

    def drop(self) -> None:
        """Forget this batch's changes (the batch was refused)."""
        self._ops, self._events = [], []

    # -- following ----------------------------------------------------------------------
    def erased(self, client: Any, tenant: str, kind: str, value: str) -> None:
        """An erasure: the other workers forget the entity too (their lists and graph).
        Older entries still name it until the stream is trimmed past them; a worker that
        starts folds them and then this one, so it forgets it as well."""
        body = _entry_encoder.encode(Entry(self.worker, [], [], [(tenant, kind, value)]))
        client.xadd(self.stream, {"b": body}, maxlen=KEEP, approximate=True)

    def queue_read(self, pipe: Any) -> None:
        pipe.xread({self.stream: self.last}, count=_READ)

    def fold_read(self, reply: Any, lists: ListStore, links: LinkGraph) -> bool:
        """Fold the other workers' entries of an XREAD reply; whether it was full (more
        may be waiting)."""
        entries = reply[0][1] if reply else []
        for entry_id, fields in entries:
            self.last = _text(entry_id)
            entry = _decoded(fields)
            if entry is not None and entry.worker != self.worker:
                self._fold(entry, lists, links, ops=True, events=True)
        return len(entries) >= _READ

    def _fold(
        self, entry: Entry, lists: ListStore, links: LinkGraph, *, ops: bool, events: bool
    ) -> None:
        if ops:
            for raw in entry.ops:
                lists.apply(ops_decoder.decode(raw))
        if events:
            for facts, outcome in entry.events:
                links.fold(facts, outcome)
        for tenant, kind, value in entry.erased:  # after the folds that named it
            lists.forget(kind, value, tenant)
            links.forget(tenant, kind, value)
        self.folded += 1

    def follow(self, client: Any, lists: ListStore, links: LinkGraph) -> None:
        """Read and fold everything new (one round trip, more while reads come full)."""
        while True:
            pipe = client.pipeline(transaction=False)
            self.queue_read(pipe)
            if not self.fold_read(pipe.execute()[0], lists, links):
                return

    # -- starting -----------------------------------------------------------------------
    def tail(self, client: Any) -> str:
        """The stream's newest entry id ("0-0" when empty): taken before the journal's
        lists are read, to follow from."""
        newest = client.xrevrange(self.stream, count=1)
        return _text(newest[0][0]) if newest else "0-0"

    def catch_up(
        self,
        client: Any,
        lists: ListStore,
        links: LinkGraph,
        lists_from: str,
        journaled: set[bytes],
    ) -> None:
        """The link graph from the newest snapshot and the entries after it (every
        worker's, this one's earlier life included), list ops after ``lists_from`` but
        those ``journaled``; then follow from where it read to."""
        blob = client.get(self.snapshot_key)
        graph_from = "0-0"
        tenants: dict[str, Any] = {}
        if blob:
            snap = _snap_decoder.decode(blob)
            graph_from, tenants = snap.last, decode_graph(snap.graph, links)
        links.tenants = tenants
        graph_after, lists_after = _order(graph_from), _order(lists_from)
        start = min(graph_from, lists_from, key=_order)
        while True:
            entries = client.xrange(self.stream, min=f"({start}", count=_READ)
            for entry_id, fields in entries:
                start = _text(entry_id)
                at = _order(start)
                entry = _decoded(fields)
                if entry is None:
                    continue
                if at > lists_after:
                    entry.ops = [op for op in entry.ops if op not in journaled]
                self._fold(entry, lists, links, ops=at > lists_after, events=at > graph_after)
            if len(entries) < _READ:
                break
        self.last = start

    def save_snapshot(self, client: Any, lists: ListStore, links: LinkGraph) -> None:
        """Catch up, then store the graph with the entry it includes everything up to
        (this worker's own entries are in its graph already)."""
        self.follow(client, lists, links)
        blob = msgspec.msgpack.encode(Snapshot(self.last, encode_graph(links)))
        client.set(self.snapshot_key, blob)
