"""In-memory backends: the state store every embedded engine uses, and a log for tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec

from shopguard.decision import Decision, decision_decoder, decision_encoder
from shopguard.features.plan import fold_touched
from shopguard.labels import Label, MerchantHealth, MerchantLedger, event_money, ledger_merchant
from shopguard.lists.store import names_entity
from shopguard.state.protocol import (
    DECISION_LOGS,
    STATE_STORES,
    LoadKey,
    LogRecord,
    Rider,
    StateKey,
    Touched,
)
from shopguard.state.search import DecisionQuery, Found, matches
from shopguard.state.snapshot import decode_rows, encode_rows


class MemoryStateStore:
    """Per tenant, one dict per key group (account, device, account|campaign...), entity ->
    its row of states. Tenants never share a row: clear business ids (campaign, coupon,
    cabinet...) are the same strings in every tenant. The entity strings are the very
    objects the facts held when the entity was first seen, so a million entities cost no
    extra key copies."""

    shared = False

    def __init__(self) -> None:
        self._widths: list[int] = []
        self._data: dict[str, list[dict[str, list[Any]]]] = {}  # tenant -> group -> rows

    def layout(self, widths: list[int], ttls: list[float] | None = None) -> None:
        """(Rows live as long as the process; ``ttls`` are for stores that expire them.)"""
        self._widths = list(widths)
        for tables in self._data.values():
            tables.extend({} for _ in range(len(widths) - len(tables)))

    def _tables(self, tenant: str) -> list[dict[str, list[Any]]]:
        tables = self._data.get(tenant)
        if tables is None:
            tables = self._data[tenant] = [{} for _ in self._widths]
        return tables

    def load(self, tenant: str, keys: list[LoadKey]) -> list[list[Any] | None]:
        tables = self._data.get(tenant)
        if tables is None:
            return [None] * len(keys)
        return [None if entity is None else tables[group].get(entity) for group, entity in keys]

    def save(self, tenant: str, items: list[tuple[StateKey, int, Any]]) -> None:
        if not items:
            return
        tables = self._tables(tenant)
        for (group, entity), slot, state in items:
            table = tables[group]
            row = table.get(entity)
            if row is None:
                row = table[entity] = [None] * self._widths[group]
            row[slot] = state

    def fold(self, tenant: str, facts: dict[str, Any], touched: Touched) -> None:
        self.save(tenant, fold_touched(facts, touched))  # states change in place

    def prefetch(self, wanted: list[tuple[str, list[LoadKey]]], rider: Rider | None = None) -> None:
        """A dict lookup needs no batching (and a store no other worker shares is never
        given a rider: there is nobody to claim from)."""

    def flush(self, rider: Rider | None = None) -> None:
        return None

    def drop(self) -> None:
        return None

    def forget(self, tenant: str, entity: str) -> int:
        """Drop the entity's own states and erase it from other entities' distinct sets,
        in this tenant's rows only."""
        dropped = 0
        for table in self._data.get(tenant, []):
            doomed = [k for k in table if k == entity or entity in k.split("|")]
            for key in doomed:
                dropped += sum(state is not None for state in table.pop(key))
            for row in table.values():
                for state in row:
                    forget = getattr(state, "forget", None)
                    if forget is not None and forget(entity):
                        dropped += 1
        return dropped

    def snapshot(self) -> bytes:
        return encode_rows(self._data)

    def restore(self, blob: bytes) -> None:
        """Replace every row by the snapshot's (data only: state/snapshot.py); raises
        SnapshotError, leaving the rows as they were, if it does not fit the layout."""
        self._data = decode_rows(blob, self._widths)

    def __len__(self) -> int:
        """States held (a row holds one per stream its entity has been in)."""
        return sum(
            s is not None
            for tables in self._data.values()
            for table in tables
            for row in table.values()
            for s in row
        )


class MemoryDecisionLog:
    """Keeps decisions in memory; nothing survives the process (tests, backtests)."""

    durable = False

    def __init__(self, keep_records: bool = False) -> None:
        self._decisions: dict[int, bytes] = {}  # encoded: bytes are invisible to the GC
        self._facts: dict[int, dict[str, Any]] = {}  # for search, as long as the decision
        self._seqs: dict[tuple[str, str], int] = {}  # (tenant, event id) -> seq, as long too
        self._records: list[LogRecord] = []
        self._ops: list[bytes] = []
        self._keep = keep_records
        self._seq = 0
        self._snapshot: tuple[int, bytes] | None = None
        self._ledger = MerchantLedger()

    def append(self, record: LogRecord) -> None:
        self._seq = record.seq
        if record.decision is not None:
            self._decisions[record.seq] = decision_encoder.encode(record.decision)
            self._facts[record.seq] = record.facts
            self._seqs[(record.tenant, record.event_id)] = record.seq

        self._ops.extend(record.list_ops)
        merchant = ledger_merchant(record.type, record.facts)
        if merchant is not None:
            gross, stake = event_money(record.type, record.facts)
            row = (record.tenant, record.event_id, merchant, record.time, record.outcome)
            self._ledger.add((*row, gross, stake))
        if self._keep:
            self._records.append(record)

    def commit(self) -> None:
        return None

    def begin(self) -> None:
        return None

    def discard(self) -> bool:
        return False  # nothing is staged: records apply as they are appended

    def probe(self) -> None:
        return None

    def append_list_op(self, op: bytes) -> None:
        self._ops.append(op)

    def last_seq(self) -> int:
        return self._seq

    def decision(self, seq: int) -> Decision | None:
        raw = self._decisions.get(seq)
        return None if raw is None else decision_decoder.decode(raw)

    def seq_of(self, tenant: str, event_id: str) -> int | None:
        return None  # decisions are kept only as long as the dedupe window needs them

    def find(self, tenant: str, event_id: str) -> Decision | None:
        """One of the decisions still kept (the dedupe window): this log is not a store."""
        seq = self._seqs.get((tenant, event_id))
        return None if seq is None else self.decision(seq)

    def facts_of(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        seq = self._seqs.get((tenant, event_id))
        return None if seq is None else self._facts.get(seq)

    def forget(self, seq: int) -> None:
        self._decisions.pop(seq, None)
        facts = self._facts.pop(seq, None)
        if facts is not None:
            key = (facts.get("tenant", ""), facts.get("event_id", ""))
            if self._seqs.get(key) == seq:
                del self._seqs[key]

    def search(self, query: DecisionQuery) -> Found:
        out: list[Decision] = []
        for seq in sorted(self._decisions, reverse=True):
            if query.before is not None and seq >= query.before:
                continue
            decision = decision_decoder.decode(self._decisions[seq])
            if matches(query, decision, self._facts.get(seq, {})):
                if len(out) == query.limit:
                    return Found(out, seq + 1)
                out.append(decision)
        return Found(out)

    def thin(self, before_time: float, upto_seq: int) -> int:
        return 0  # nothing here outlives the dedupe window

    def compact(self, before_time: float, upto_seq: int) -> int:
        return 0

    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        touched = 0
        for seq, facts in self._facts.items():
            if facts.get(kind) == value and facts.get("tenant") == tenant:
                self._facts[seq] = {k: v for k, v in facts.items() if v != value}
                decision = decision_decoder.decode(self._decisions[seq])
                redacted = msgspec.structs.replace(decision, display={})
                self._decisions[seq] = decision_encoder.encode(redacted)
                touched += 1
        kept = [op for op in self._ops if not names_entity(op, tenant, kind, value)]
        ops, self._ops = len(self._ops) - len(kept), kept
        labels = self._ledger.drop_entity(tenant, kind, value)
        return {"decisions": touched, "list_ops": ops, "labels": labels}

    def size(self) -> tuple[int, int]:
        return len(self._decisions), sum(len(b) for b in self._decisions.values())

    def records_after(self, seq: int) -> Iterator[LogRecord]:
        return iter([r for r in self._records if r.seq > seq])

    def list_ops(self) -> Iterator[bytes]:
        return iter(list(self._ops))

    def add_label(self, label: Label) -> None:
        self._ledger.label(label)

    def labels(self, tenant: str) -> Iterator[Label]:
        return iter([label for label in self._ledger.labels if label.tenant == tenant])

    def merchant_health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        return self._ledger.health(tenant, since, until, known_by)

    def save_snapshot(self, seq: int, blob: bytes) -> None:
        self._snapshot = (seq, blob)

    def load_snapshot(self) -> tuple[int, bytes] | None:
        return self._snapshot

    def close(self) -> None:
        return None


STATE_STORES["memory"] = MemoryStateStore
DECISION_LOGS["memory"] = MemoryDecisionLog
