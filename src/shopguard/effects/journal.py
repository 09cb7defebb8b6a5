"""Snapshots and recovery: the journal folded back into state after a restart.

Recovery replays exactly what ``Effects.apply`` did, from the journal's desensitized facts
and list operations, so state after ``kill -9`` and restart equals state before it for every
acknowledged event. A snapshot bounds the replay. It is data only (state/snapshot.py), so
reading one runs no code; one that fails its MAC or checksum, does not decode, or was taken
under other feature declarations (its fingerprint differs) is reported in one log line and
the whole journal is folded again instead.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Mapping

import msgspec

from shopguard.effects.dedupe import Dedupe
from shopguard.features.plan import TypePlan
from shopguard.links import LinkGraph
from shopguard.links.persist import GraphError, decode_graph, encode_graph
from shopguard.lists.store import ListStore, ops_decoder
from shopguard.state.protocol import DecisionLog, StateStore
from shopguard.state.snapshot import Envelope, SnapshotError, pack, unpack

log = logging.getLogger("shopguard.journal")


def checkpoint(
    store: StateStore, journal: DecisionLog, dedupe: Dedupe, fingerprint: str, links: LinkGraph
) -> None:
    """Snapshot feature state, the link graph and the dedupe window at the journal's
    last record."""
    seq = journal.last_seq()
    order = [(tenant, list(buckets)) for tenant, buckets in dedupe.order.items()]
    seen, spilled = list(dedupe.seen.items()), list(dedupe.spilled.items())
    graph = encode_graph(links)
    envelope = Envelope(fingerprint, seq, store.snapshot(), seen, order, spilled, graph)
    journal.save_snapshot(seq, pack(envelope))


def _restored(
    store: StateStore, dedupe: Dedupe, links: LinkGraph, snap: tuple[int, bytes], fingerprint: str
) -> int:
    """The snapshot's seq once restored; raises SnapshotError with nothing changed."""
    envelope = unpack(snap[1])
    if envelope.seq != snap[0]:
        raise SnapshotError(f"it says seq {envelope.seq}, its row says {snap[0]}")
    if envelope.fingerprint != fingerprint:
        raise SnapshotError("taken under other feature declarations")
    try:
        graph = decode_graph(envelope.links, links)
    except (msgspec.DecodeError, GraphError) as exc:
        raise SnapshotError(f"link graph unusable: {exc}") from None
    store.restore(envelope.state)  # raises before it changes anything
    links.tenants = graph
    dedupe.seen = dict(envelope.seen)
    dedupe.order = {tenant: deque(buckets) for tenant, buckets in envelope.order}
    dedupe.spilled = dict(envelope.spilled)
    return envelope.seq


def recover(
    store: StateStore,
    journal: DecisionLog,
    lists: ListStore,
    plans: Mapping[str, TypePlan],
    dedupe: Dedupe,
    fingerprint: str,
    links: LinkGraph,
) -> int:
    """Rebuild lists, feature state, the link graph and the dedupe window; returns the
    records replayed."""
    for raw in journal.list_ops():
        lists.apply(ops_decoder.decode(raw))
    after = 0
    snap = journal.load_snapshot()
    if snap is not None:
        try:
            after = _restored(store, dedupe, links, snap, fingerprint)
        except SnapshotError as exc:
            log.warning(
                "snapshot at seq %d not used (%s): rebuilding from the journal", snap[0], exc
            )
    replayed = 0
    for record in journal.records_after(after):
        if not store.shared:  # a shared store already holds every worker's folds
            plan = plans[record.type]
            _, touched = plan.read(record.facts, store.load)
            store.save(record.facts["tenant"], plan.apply(record.facts, touched))
        links.fold(record.facts, record.outcome)
        key = Dedupe.key(record.tenant, record.event_id)
        dedupe.remember(record.tenant, key, record.seq, record.time)
        replayed += 1
    return replayed
