"""The two storage protocols and their registries.

The state-store protocol is batch-shaped on purpose: the engine asks for every key an
event needs in one ``load`` and writes every changed state in one ``save``, so a network
backend (Redis) serves an event in one round trip each way, pipelined.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import msgspec

from shopguard.decision import Decision
from shopguard.labels import Label, MerchantHealth
from shopguard.state.search import DecisionQuery, Found

# (key group, entity key): the group names the entities a row is keyed by (account, or
# account|campaign...), the entity key is their pseudonyms or clear ids, joined by "|" for
# a pair. Every row belongs to one tenant, given beside the keys (clear ids such as a
# campaign name are alike in every tenant). A network backend keeps one hash per tenant
# and key, one field per slot: "shop|2|k1.ab.." -> {0: .., 3: ..}
StateKey = tuple[int, str]
LoadKey = tuple[int, str | None]  # an entity the event lacks loads as None
# (key, slot in its row, the state as loaded or None, the fold of the event into it)
Touched = list[tuple[StateKey, int, Any, Callable[[Any, dict[str, Any], float], Any]]]


class Rider(Protocol):
    """Commands of another part of the engine (cross-worker claims, the change stream of
    lists and links) that travel in the shared store's own round trip: ``queue`` puts
    them onto the store's pipeline and says how many; ``answer`` gets their replies, in
    order, once the pipeline came back (never, if it failed: the store raised)."""

    def queue(self, pipe: Any) -> int: ...

    def answer(self, replies: list[Any]) -> None: ...


class StateStore(Protocol):
    # False: the state lives in this process and is folded back from the journal at start
    # (memory). True: it lives outside (Redis), other workers change it too; recovery
    # leaves it alone and snapshots do not hold it.
    shared: bool

    def layout(self, widths: list[int], ttls: list[float] | None = None) -> None:
        """How many states (slots) a row of each key group holds, and how long (seconds)
        a row of each group no event touched is worth keeping; set once at start."""

    def load(self, tenant: str, keys: list[LoadKey]) -> list[list[Any] | None]:
        """The tenant's state rows under ``keys`` (None where absent), in order: one lookup
        per entity an event carries. A key whose entity is None (the event lacks it) is
        never stored: its row is None."""

    def save(self, tenant: str, items: list[tuple[StateKey, int, Any]]) -> None:
        """Store changed states of the tenant, each in a slot of its key's row (created on
        first save). (The memory backend's states change in place: only new ones alter
        its rows.)"""

    def fold(self, tenant: str, facts: dict[str, Any], touched: Touched) -> None:
        """Fold a decided event into the states it touched (``features.plan.fold_touched``)
        and keep them. A shared store stages them until ``flush`` and folds the event
        again into the newest row if another worker changed it meanwhile (no lost
        update); states read later in the same batch see the staged ones."""

    def prefetch(self, wanted: list[tuple[str, list[LoadKey]]], rider: Rider | None = None) -> None:
        """The rows a batch is about to load, per tenant, fetched in one round trip (a
        shared store; the memory store does nothing), with ``rider``'s commands in it;
        later ``load``s of them are served from what was fetched until ``flush`` or
        ``drop``."""

    def flush(self, rider: Rider | None = None) -> None:
        """Write what ``fold`` staged (a shared store: one round trip, ``rider``'s
        commands in it, sent even when no row changed), after the journal made the
        batch durable. Raises StateUnavailable if the store is unreachable; the staged
        folds are then kept and written once it answers."""

    def drop(self) -> None:
        """Forget what was staged and prefetched: the batch was refused."""

    def forget(self, tenant: str, entity: str) -> int:
        """Drop every state of the tenant keyed by this entity (alone or in a pair), and
        the entity from its distinct sets; returns how many."""

    def snapshot(self) -> bytes: ...

    def restore(self, blob: bytes) -> None: ...

    def __len__(self) -> int: ...


class LogRecord(msgspec.Struct):
    """One decided event, as journaled: everything needed to serve and to rebuild state.

    Backends encode it as they see fit (SQLite: facts as msgpack, the decision as JSON);
    records read back for recovery carry the facts and may leave ``decision`` unset.
    """

    seq: int
    tenant: str
    event_id: str
    time: float
    type: str
    outcome: int
    facts: dict[str, Any]  # desensitized: pseudonyms and derived values only
    decision: Decision | None
    list_ops: list[bytes] = []
    alert: bytes | None = None


class DecisionLog(Protocol):
    durable: bool

    def append(self, record: LogRecord) -> None:
        """Stage a record; it is acknowledged (durable) once ``commit`` returns."""

    def begin(self) -> None:
        """Before a batch changes anything: raise StorageUnavailable now if its commit
        would fail for want of the write lock or of disk space."""

    def commit(self) -> None:
        """Make what was staged durable, or raise StorageUnavailable having kept none of
        it (the sequence and chain heads back where the last commit left them)."""

    def discard(self) -> bool:
        """Drop what was staged and not committed; whether there was anything."""

    def probe(self) -> None:
        """A small durable write: raises StorageUnavailable while writes would fail."""

    def append_list_op(self, op: bytes) -> None:
        """A list change made outside any event (API, config); durable on ``commit``."""

    def last_seq(self) -> int: ...

    def decision(self, seq: int) -> Decision | None: ...

    def seq_of(self, tenant: str, event_id: str) -> int | None:
        """The sequence of the event's first committed decision, without committing what
        is staged (the dedupe window's fallback once it let ids go early); a log that
        keeps decisions only for the window answers None."""

    def find(self, tenant: str, event_id: str) -> Decision | None:
        """The decision of one event (the first, if it was decided more than once)."""

    def facts_of(self, tenant: str, event_id: str) -> dict[str, Any] | None:
        """The journaled facts of one event (pseudonyms only): None when it was never
        decided here or its record has been thinned or deleted."""

    def records_after(self, seq: int) -> Iterator[LogRecord]: ...

    def list_ops(self) -> Iterator[bytes]: ...

    def add_label(self, label: Label) -> None:
        """Store a confirmed case (durable when this returns)."""

    def labels(self, tenant: str) -> Iterator[Label]: ...

    def merchant_health(
        self, tenant: str, since: float, until: float, known_by: float | None = None
    ) -> list[MerchantHealth]:
        """Per merchant over events in [since, until), with labels known by ``known_by``."""

    def search(self, query: DecisionQuery) -> Found:
        """Decisions matching ``query``, newest first (state/search.py)."""

    def thin(self, before_time: float, upto_seq: int) -> int:
        """Drop the bodies of quiet records older than ``before_time`` (keeps hashes)."""

    def compact(self, before_time: float, upto_seq: int) -> int:
        """Delete records older than ``before_time``, at most up to ``upto_seq``."""

    def erase(self, tenant: str, kind: str, value: str) -> dict[str, int]:
        """Redact every record naming this pseudonym; counts of what was touched."""

    def size(self) -> tuple[int, int]:
        """(records kept, bytes used)."""

    def save_snapshot(self, seq: int, blob: bytes) -> None: ...

    def load_snapshot(self) -> tuple[int, bytes] | None: ...

    def close(self) -> None: ...


STATE_STORES: dict[str, Callable[..., StateStore]] = {}
DECISION_LOGS: dict[str, Callable[..., DecisionLog]] = {}


def make_state_store(name: str, **options: Any) -> StateStore:
    from shopguard.errors import ConfigError
    from shopguard.state import memory  # noqa: F401  (registers itself)

    if name == "redis":  # only a deployment that uses it imports its client
        importlib.import_module("shopguard.state.redis")  # registers itself

    if name not in STATE_STORES:
        raise ConfigError(f"unknown state store {name!r}; registered: {sorted(STATE_STORES)}")
    return STATE_STORES[name](**options)


def make_decision_log(name: str, **options: Any) -> DecisionLog:
    from shopguard.errors import ConfigError
    from shopguard.state import memory, sqlite  # noqa: F401  (register themselves)

    if name == "postgres":
        importlib.import_module("shopguard.state.postgres")  # registers itself

    if name not in DECISION_LOGS:
        raise ConfigError(f"unknown decision log {name!r}; registered: {sorted(DECISION_LOGS)}")
    return DECISION_LOGS[name](**options)
