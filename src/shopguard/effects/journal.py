"""Snapshots and recovery: the journal folded back into state after a restart.

Recovery replays exactly what ``Effects.apply`` did, from the journal's desensitized facts
and list operations, so state after ``kill -9`` and restart equals state before it for every
acknowledged event. A snapshot bounds the replay; if the feature declarations changed since
it was taken (its fingerprint differs) the whole journal is folded again instead.
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping

from shopguard.effects.dedupe import Dedupe
from shopguard.features.plan import TypePlan
from shopguard.lists.store import ListStore, ops_decoder
from shopguard.state.protocol import DecisionLog, StateStore


def checkpoint(store: StateStore, log: DecisionLog, dedupe: Dedupe, fingerprint: str) -> None:
    """Snapshot feature state and the dedupe window at the journal's last record."""
    blob = pickle.dumps(
        {
            "fingerprint": fingerprint,
            "state": store.snapshot(),
            "seen": dedupe.seen,
            "order": dedupe.order,
        },
        protocol=pickle.HIGHEST_PROTOCOL,
    )
    log.save_snapshot(log.last_seq(), blob)


def recover(
    store: StateStore,
    log: DecisionLog,
    lists: ListStore,
    plans: Mapping[str, TypePlan],
    dedupe: Dedupe,
    fingerprint: str,
) -> int:
    """Rebuild lists, feature state and the dedupe window; returns records replayed."""
    for raw in log.list_ops():
        lists.apply(ops_decoder.decode(raw))
    after = 0
    snap = log.load_snapshot()
    if snap is not None:
        # Only our own snapshot, read back from our own journal file.
        blob = pickle.loads(snap[1])
        if blob["fingerprint"] == fingerprint:
            store.restore(blob["state"])
            dedupe.seen, dedupe.order = blob["seen"], blob["order"]
            after = snap[0]
    replayed = 0
    for record in log.records_after(after):
        plan = plans[record.type]
        _, touched = plan.read(record.facts, store.load)
        store.save(record.facts["tenant"], plan.apply(record.facts, touched))
        key = Dedupe.key(record.tenant, record.event_id)
        dedupe.remember(record.tenant, key, record.seq, record.time)
        replayed += 1
    return replayed
