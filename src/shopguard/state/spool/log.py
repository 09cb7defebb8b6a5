"""``SpoolingLog``: the primary decision log, or the local spool while it is unreachable.

While the primary (PostgreSQL) answers, every commit goes to it. When its ``begin`` or
``commit`` raises StorageUnavailable, the batch is written to the spool instead (one
local SQLite transaction: acknowledged, durable on this disk) and so is every commit
after it, until the drainer has moved the whole spool to the primary, in its original
order, with each record's writer sequence (the primary chains them as it would have).
Only then do commits go to the primary again, so the journal never holds a record
before one acknowledged earlier.

Exactly once: the primary's last sequence of this writer, read from the primary after
it answers again (a commit whose reply was lost may have landed), tells the drainer
which spooled records it already holds; a record is deleted from the spool only after
the primary committed it. A crash between the two leaves records the next drain skips.

A spool left by a writer that no longer runs (its name was its process id, or it moved
elsewhere) is drained at start through ``sibling(writer)``, a log of that writer, once
the primary lets us claim it (a live writer keeps its claim).

The drainer is a thread waking every ``drain_every``; the primary is used by one thread
at a time (``_primary``). Reads (``decision``, ``seq_of``, ``find``, ``facts_of``)
consult the spool too, so a resend during an outage gets its first decision back.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from shopguard.decision import Decision
from shopguard.errors import ConfigError, StorageUnavailable
from shopguard.labels import Label, MerchantHealth
from shopguard.state.health import Throttled
from shopguard.state.protocol import DecisionLog, LogRecord
from shopguard.state.search import DecisionQuery, Found
from shopguard.state.spool.store import Entry, SpoolFile, spool_path

_log = logging.getLogger("shopguard.spool")
_RECENT = 16_384  # decisions kept in memory: a resend answered while the primary is down
_DRAIN_BATCH = 512


class SpoolingLog:
    durable = True

    def __init__(
        self,
        primary: DecisionLog,
        directory: str | Path,
        synchronous: str = "NORMAL",
        drain_every: float = 1.0,
        background: bool = True,
        sibling: Callable[[str], DecisionLog] | None = None,
    ) -> None:
        """``background``: a drainer thread; without it, ``drain()`` is called by hand.
        ``sibling``: the primary's log for another writer (to drain spools left over)."""
        self.primary = primary
        writer = str(getattr(primary, "writer", "") or "journal")
        directory = Path(directory)
        if sibling is not None:
            _adopt(directory, writer, synchronous, sibling)
        self.spool = SpoolFile(spool_path(directory, writer), synchronous, writer)
        self._primary = threading.RLock()  # the primary: one thread at a time
        self._switch = threading.Lock()  # a spool write vs the drainer's switch back
        self._lines = Throttled(_log, 10.0)
        self._staged: list[Entry] = []
        self._recent: dict[int, Decision] = {}
        self.spooling = len(self.spool) > 0
        self.drained = 0  # records moved to the primary since start
        if self.spooling:  # a restart: what the last run spooled goes first
            self.drain()
        self._seq = max(self.primary.last_seq(), self.spool.last_seq())
        self._committed_seq = self._seq
        self._stop = threading.Event()
        self._every = drain_every
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._drainer, name="spool-drain", daemon=True)
            self._thread.start()

    # -- writing ---------------------------------------------------------------------
    def append(self, record: LogRecord) -> None:
        self._staged.append(record)
        self._seq = record.seq

    def append_list_op(self, op: bytes) -> None:
        self._staged.append(op)

    def begin(self) -> None:
        if self.spooling:
            return
        with self._primary:
            try:
                self.primary.begin()
            except StorageUnavailable as exc:
                self._outage(exc)

    def commit(self) -> None:
        """Durable in the primary, or else in the spool; StorageUnavailable (nothing
        kept) only when both refuse it."""
        staged, self._staged = self._staged, []
        while True:
            if not self.spooling and self._committed_to_primary(staged):
                return
            if not staged:
                return
            with self._switch:
                if self.spooling:  # else drained meanwhile: the primary again, in order
                    try:
                        self.spool.write(staged, self._committed_seq)
                    except StorageUnavailable:
                        self._seq = self._committed_seq
                        raise
                    break
        self._acknowledged(staged)

    def _committed_to_primary(self, staged: list[Entry]) -> bool:
        with self._primary:
            try:
                for entry in staged:
                    self._stage(entry)
                self.primary.commit()
            except StorageUnavailable as exc:
                self._outage(exc)
                return False
        self._acknowledged(staged)
        return True

    def _stage(self, entry: Entry) -> None:
        if isinstance(entry, LogRecord):
            self.primary.append(entry)
        else:
            self.primary.append_list_op(entry)

    def _acknowledged(self, staged: list[Entry]) -> None:
        recent = self._recent
        for entry in staged:
            if isinstance(entry, LogRecord) and entry.decision is not None:
                recent[entry.seq] = entry.decision
        while len(recent) > _RECENT:
            del recent[next(iter(recent))]
        self._committed_seq = self._seq

    def _outage(self, exc: StorageUnavailable) -> None:
        """The primary refused: drop what it staged, spool from here on."""
        self.primary.discard()
        self.spooling = True
        self._lines.warning("outage", f"journal unreachable ({exc}): spooling to {self.spool.path}")

    def discard(self) -> bool:
        dropped = bool(self._staged)
        self._staged = []
        self._seq = self._committed_seq
        if not self.spooling:
            with self._primary:
                dropped = self.primary.discard() or dropped
        return dropped

    def probe(self) -> None:
        if not self.spooling:
            with self._primary:
                try:
                    self.primary.probe()
                    return
                except StorageUnavailable as exc:
                    self._outage(exc)
        self.spool.probe()

    # -- draining --------------------------------------------------------------------
    def drain(self) -> int:
        """Move the spool to the primary, oldest first; returns the records moved. Stops
        (to try again later) at the first failure, keeping what was not committed."""
        moved = 0
        with self._primary:
            if not self.spooling:
                return 0
            try:
                self.primary.begin()  # reconnects: its last sequence is the server's
                done, opened = self.primary.last_seq(), True
                while True:
                    entries = self.spool.oldest(_DRAIN_BATCH)
                    if not entries:
                        with self._switch:  # no spool write can slip in after this
                            if not len(self.spool):
                                self.spooling = False
                                break
                        continue
                    if not opened:
                        self.primary.begin()
                    for _, after, entry in entries:
                        # already in the primary: its reply was lost, or we crashed
                        # between its commit and the spool's delete
                        held = entry.seq <= done if isinstance(entry, LogRecord) else after < done
                        if not held:
                            self._stage(entry)
                            moved += isinstance(entry, LogRecord)
                    self.primary.commit()
                    done, opened = self.primary.last_seq(), False
                    self.spool.delete_through(entries[-1][0])
            except StorageUnavailable as exc:
                self.primary.discard()
                self._lines.warning("drain", f"spool not drained yet ({exc})")
            except BaseException:  # a bug: nothing half-staged may reach a later commit
                self.primary.discard()
                raise
        self.drained += moved
        if moved and not self.spooling:
            self._lines.warning("drained", f"journal answers again: {self.drained} drained")
        return moved

    def _drainer(self) -> None:
        while not self._stop.wait(self._every):
            if self.spooling:
                try:
                    self.drain()
                except Exception:  # a bug must not end the thread: the spool keeps all
                    _log.exception("spool drain failed")

    # -- reading ---------------------------------------------------------------------
    def last_seq(self) -> int:
        return self._seq

    def decision(self, seq: int) -> Decision | None:
        for entry in self._staged:
            if isinstance(entry, LogRecord) and entry.seq == seq:
                return entry.decision
        found = self._recent.get(seq)
        if found is None and self.spooling:
            found = self.spool.decision(seq)
        if found is not None:
            return found
        with self._primary:
            return self.primary.decision(seq)

    def _spooled(self, tenant: str, event_id: str) -> LogRecord | None:
        if self.spooling:
            return self.spool.find(tenant, event_id)
        return None

    def seq_of(self, tenant: str, event_id: str) -> int | None:
        spooled = self._spooled(tenant, event_id)
        if spooled is not None:
            return spooled.seq
        with self._primary:
            return self.primary.seq_of(tenant, event_id)

    def find(self, tenant: str, event_id: str) -> Decision | None:
        spooled = self._spooled(tenant, event_id)
        if spooled is not None:
            return spooled.decision
        with self._primary:
            return self.primary.find(tenant, event_id)

    def facts_of(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        spooled = self._spooled(tenant, event_id)
        if spooled is not None:
            return spooled.facts
        with self._primary:
            return self.primary.facts_of(tenant, event_id)

    def records_after(self, seq: int) -> Iterator[LogRecord]:
        """The primary's records, then the spooled ones it lacks (a recovery before the
        spool could be drained)."""
        with self._primary:
            yield from self.primary.records_after(seq)
            held = max(seq, self.primary.last_seq())
        for record in self.spool.records():
            if record.seq > held:
                yield record

    def list_ops(self) -> Iterator[bytes]:
        with self._primary:
            ops = list(self.primary.list_ops())
        yield from ops
        if self.spooling:
            yield from self.spool.list_ops()

    # -- the rest is the primary's alone ------------------------------------------------
    def _whole(self, what: str) -> None:
        """Refuse what needs every record in the primary while some are only spooled."""
        if self.spooling:
            raise StorageUnavailable(f"{what} waits until the spool is drained", "io")

    def add_label(self, label: Label) -> None:
        with self._primary:
            self.primary.add_label(label)

    def labels(self, tenant: str) -> Iterator[Label]:
        with self._primary:
            labels = list(self.primary.labels(tenant))
        yield from labels

    def merchant_health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        with self._primary:
            return self.primary.merchant_health(tenant, since, until, known_by)

    def search(self, query: DecisionQuery) -> Found:
        with self._primary:  # spooled decisions are found once drained
            return self.primary.search(query)

    def thin(self, before_time: float, upto_seq: int) -> int:
        with self._primary:
            return self.primary.thin(before_time, min(upto_seq, self.primary.last_seq()))

    def compact(self, before_time: float, upto_seq: int) -> int:
        with self._primary:
            return self.primary.compact(before_time, min(upto_seq, self.primary.last_seq()))

    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        self._whole("erasure")  # the spool's copies must go too: erase once drained
        with self._primary:
            return self.primary.erase(tenant, kind, value)

    def size(self) -> tuple[int, int]:
        with self._primary:
            return self.primary.size()

    def save_snapshot(self, seq: int, blob: bytes) -> None:
        self._whole("a snapshot")  # its seq must be the primary's
        with self._primary:
            self.primary.save_snapshot(seq, blob)

    def load_snapshot(self) -> tuple[int, bytes] | None:
        with self._primary:
            return self.primary.load_snapshot()

    def __getattr__(self, name: str) -> Any:
        """What only some logs offer (verify, adopt, outbox...): the primary's."""
        if name.startswith("_") or name in ("primary", "forget"):
            raise AttributeError(name)
        return getattr(self.primary, name)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.commit()
        if self.spooling:
            self.drain()  # the next start drains what is left
        with self._primary:
            self.primary.close()
        self.spool.close(remove_if_empty=True)


def _adopt(
    directory: Path, writer: str, synchronous: str, sibling: Callable[[str], DecisionLog]
) -> None:
    """Drain the spools of other writers that no longer run; a drained one is removed."""
    for path in sorted(directory.glob("*.db")) if directory.is_dir() else []:
        if path == spool_path(directory, writer):
            continue
        left = SpoolFile(path, synchronous)
        other, empty = left.writer, not len(left)
        left.close(remove_if_empty=empty and not other)
        if not other:
            continue
        try:
            primary = sibling(other)
        except (ConfigError, StorageUnavailable):  # alive (it drains its own), or down
            continue
        _log.warning("draining the spool writer %s left behind (%s)", other, path)
        SpoolingLog(primary, directory, synchronous, background=False).close()
