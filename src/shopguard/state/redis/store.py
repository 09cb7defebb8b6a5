"""The Redis state store: feature state shared by every worker and machine.

One hash per (tenant, key group, entity) row (keys.py), one field per slot holding its
state as data (rows.py), and a version field. A batch reads every row it needs in one
round trip (``prefetch``, or ``load`` for a lone event) and keeps them: folds change
those copies, later events of the batch read them, and ``flush`` writes every changed
row in one round trip with a per-row compare-and-set (scripts.py). A row another worker
wrote meanwhile comes back with the conflict; the batch's events are folded again into
it and written again, so no update is lost. In a cluster each call covers one slot and
redis-py's cluster pipeline sends one pipeline per node.

While Redis does not answer, every call raises StateUnavailable at once and Redis is
tried again at most every ``retry_every`` seconds; folds whose flush failed are kept
(up to ``max_owed`` events) and written, folded into the newest rows, once it answers.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import redis

from shopguard.errors import ConfigError, StateUnavailable
from shopguard.features.kinds.base import MAX_WINDOW_S
from shopguard.state.protocol import LoadKey, StateKey, Touched
from shopguard.state.redis.keys import parse_key, pattern, row_key, tenant_head
from shopguard.state.redis.link import Link
from shopguard.state.redis.rows import Event, Row, version_of
from shopguard.state.redis.scripts import CAS_SHA, LOAD_SHA

Ident = tuple[str, int, str]  # tenant, group, entity
ATTEMPTS = 16  # writes of rows that keep changing under a flush before it gives up


class RedisStateStore:
    shared = True

    def __init__(
        self,
        url: str = "redis://127.0.0.1:6379/0",
        cluster: bool = False,
        timeout: float = 0.5,
        prefix: str = "sg",
        retry_every: float = 1.0,
        max_owed: int = 100_000,
    ) -> None:
        if not redis.utils.HIREDIS_AVAILABLE:
            raise ConfigError("the redis state store needs hiredis (pip install redis[hiredis])")
        self.url, self.cluster, self.timeout = url, cluster, timeout
        self.prefix, self.retry_every, self.max_owed = prefix, retry_every, max_owed
        self._link = Link(url, cluster, timeout, retry_every)
        self._widths: list[int] = []
        self._ttls_ms: list[int] = []
        self._rows: dict[Ident, Row] = {}  # read this batch (or owed by a failed flush)
        self._heads: dict[str, str] = {}
        self.conflicts = 0  # rows folded again because another worker wrote them first
        self.lost = 0  # folds given up: more than max_owed while Redis was down

    def _key(self, tenant: str, group: int, entity: str) -> str:
        head = self._heads.get(tenant)
        if head is None:
            head = self._heads[tenant] = tenant_head(self.prefix, tenant)
        return row_key(head, group, entity)

    # -- reading --------------------------------------------------------------------
    def layout(self, widths: list[int], ttls: list[float] | None = None) -> None:
        """Rows expire ``ttls`` seconds (their group's longest window) after a write."""
        self._widths = list(widths)
        ttls = ttls if ttls is not None else [MAX_WINDOW_S] * len(widths)
        self._ttls_ms = [max(1, int(ttl * 1000)) for ttl in ttls]

    def _fetch(self, wanted: Iterable[Ident]) -> None:
        """Read the rows not held yet, in one round trip."""
        need = [ident for ident in dict.fromkeys(wanted) if ident not in self._rows]
        if not need:
            return
        keys = [self._key(*ident) for ident in need]
        groups = self._link.by_slot(keys)
        results = self._link.run("read", [([keys[i] for i in g], []) for g in groups], LOAD_SHA)
        for indexes, flats in zip(groups, results, strict=True):
            for i, flat in zip(indexes, flats, strict=True):
                group = need[i][1]
                self._rows[need[i]] = Row(keys[i], group, self._widths[group], flat)

    def load(self, tenant: str, keys: list[LoadKey]) -> list[list[Any] | None]:
        rows = self._rows
        missing = [(tenant, g, e) for g, e in keys if e is not None and (tenant, g, e) not in rows]
        if missing:
            self._fetch(missing)
        out: list[list[Any] | None] = []
        for group, entity in keys:
            row = None if entity is None else rows[(tenant, group, entity)]
            out.append(row.states if row is not None and row.exists else None)
        return out

    def prefetch(self, wanted: list[tuple[str, list[LoadKey]]]) -> None:
        self._fetch((t, g, e) for t, keys in wanted for g, e in keys if e is not None)

    # -- writing --------------------------------------------------------------------
    def fold(self, tenant: str, facts: dict[str, Any], touched: Touched) -> None:
        """Fold into the rows as read (the states ``touched`` carries are theirs) and
        keep the event beside them, to fold again if another worker writes first."""
        per_row: dict[StateKey, list[Any]] = {}
        for key, slot, _state, fold in touched:
            per_row.setdefault(key, []).append((slot, fold))
        if not per_row:
            return
        self._fetch((tenant, g, e) for g, e in per_row)  # read already, unless called alone
        for (group, entity), entries in per_row.items():
            row = self._rows[(tenant, group, entity)]
            row.events.append((facts, entries))
            row.fold(facts, entries)

    def save(self, tenant: str, items: list[tuple[StateKey, int, Any]]) -> None:
        """Write these states now, whatever the rows hold (folds go through ``fold``)."""
        rows: dict[StateKey, Row] = {}
        for (group, entity), slot, state in items:
            row = rows.get((group, entity))
            if row is None:
                key = self._key(tenant, group, entity)
                row = rows[(group, entity)] = Row(key, group, self._widths[group], [])
            row.states[slot] = state
            row.dirty.add(slot)
            held = self._rows.get((tenant, group, entity))
            if held is not None and not held.events:  # read it again after this; one
                del self._rows[(tenant, group, entity)]  # with folds owed meets a conflict
        if rows:
            self._write(list(rows.values()), force=True)

    def flush(self) -> None:
        owed = [row for row in self._rows.values() if row.events]
        for row in owed:
            row.kept = len(row.events)  # the journal has them now: a drop keeps them
        try:
            if owed:
                self._write(owed)
        except StateUnavailable:
            self._keep_owed()
            raise
        self._rows = {}

    def _write(self, rows: list[Row], force: bool = False) -> None:
        """Write the rows' changed slots, each only if no one wrote it since it was read;
        a row someone did write comes back, its events are folded into it, and it goes
        again. A row whose events changed nothing needs no write."""
        pending = [row for row in rows if row.dirty]
        for row in rows:
            if not row.dirty:
                row.events, row.kept = [], 0
        for _ in range(ATTEMPTS):
            if not pending:
                return
            keys = [row.key for row in pending]
            groups = self._link.by_slot(keys)
            calls = []
            for indexes in groups:
                args = []
                for i in indexes:
                    args += pending[i].write_args(self._ttls_ms[pending[i].group], force)
                calls.append(([keys[i] for i in indexes], args))
            results = self._link.run("write", calls, CAS_SHA)
            again = []
            for indexes, answers in zip(groups, results, strict=True):
                for i, answer in zip(indexes, answers, strict=True):
                    row = pending[i]
                    if answer == 1 or version_of(answer) == row.sent:  # a reply once lost
                        row.events, row.kept, row.dirty, row.sent = [], 0, set(), None
                    else:
                        self.conflicts += 1
                        row.sent = None
                        row.refold(answer)
                        again.append(row)
            pending = [row for row in again if row.dirty]
        raise StateUnavailable(f"rows kept changing under the write ({ATTEMPTS} tries)")

    def _keep_owed(self) -> None:
        """After a failed flush: keep the rows with folds owed, the oldest given up past
        ``max_owed`` events."""
        kept = {ident: row for ident, row in self._rows.items() if row.events}
        total = sum(len(row.events) for row in kept.values())
        for ident in list(kept):
            if total <= self.max_owed:
                break
            total -= len(kept[ident].events)
            self.lost += len(kept.pop(ident).events)
        self._rows = kept

    def drop(self) -> None:
        """Forget this batch: rows read and folds staged, but for folds a failed flush
        still owes (the journal has them), folded again into the rows as read."""
        kept: dict[Ident, Row] = {}
        for ident, row in self._rows.items():
            if row.kept:
                row.refold(row.flat(), upto=row.kept)
                kept[ident] = row
        self._rows = kept

    # -- erasure, counting, snapshots -----------------------------------------------
    def forget(self, tenant: str, entity: str) -> int:
        """Delete the entity's rows (alone or in a pair) and erase it from the distinct
        sets of the tenant's other rows (a scan of the tenant's keys: slow, and rare)."""
        head = tenant_head(self.prefix, tenant)
        self.flush()  # nothing of this worker's pending folds outlives the erasure
        dropped = 0
        keys = self._link.scan(pattern(head))
        for start in range(0, len(keys), 500):
            dropped += self._forget_in(tenant, head, entity, keys[start : start + 500])
        return dropped

    def _forget_in(self, tenant: str, head: str, entity: str, keys: list[str]) -> int:
        idents = []
        for key in keys:
            parsed = parse_key(head, key)
            if parsed is not None and parsed[0] < len(self._widths):
                idents.append((tenant, *parsed))
        self._fetch(idents)
        doomed, erased, dropped = [], [], 0

        def erase(state: Any, facts: dict[str, Any], t: float) -> Any:
            forget = getattr(state, "forget", None)
            return state if forget is not None and forget(entity) else None

        for ident in idents:
            row = self._rows[ident]
            if ident[2] == entity or entity in ident[2].split("|"):
                doomed.append(row.key)
                dropped += sum(state is not None for state in row.states)
                continue
            event: Event = ({"time": 0.0}, [(slot, erase) for slot in range(len(row.states))])
            row.events.append(event)
            row.fold(*event)
            dropped += len(row.dirty)
            erased.append(row)
        try:
            self._write(erased)
            if doomed:
                pipe = self._link.client().pipeline(transaction=False)
                for key in doomed:
                    pipe.delete(key)
                pipe.execute()
        except self._link.down as exc:
            raise StateUnavailable(f"redis erasure failed: {exc}", self.retry_every) from None
        finally:
            self._rows = {}
        return dropped

    def __len__(self) -> int:
        """States held under the prefix, every tenant's (as the memory store counts): a
        scan of every key, for tests and operators, not for the hot path."""
        keys = self._link.scan(pattern(f"{self.prefix}:{{"))
        pipe = self._link.client().pipeline(transaction=False)
        for key in keys:
            pipe.hlen(key)
        return sum(max(0, n - 1) for n in pipe.execute()) if keys else 0

    def snapshot(self) -> bytes:
        """Empty: the state lives in Redis, shared by every worker; an engine's snapshot
        holds its dedupe window and link graph only."""
        return b""

    def restore(self, blob: bytes) -> None:
        """Nothing to restore (see ``snapshot``): Redis keeps the rows itself, and a blob
        from a memory store is not folded into state other workers share."""
        return None

    def close(self) -> None:
        self._link.close()
