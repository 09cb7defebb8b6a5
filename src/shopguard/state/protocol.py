"""The two storage protocols and their registries.

The state-store protocol is batch-shaped on purpose: the engine asks for every key an
event needs in one ``load`` and writes every changed state in one ``save``, so a network
backend (Redis) serves an event in one round trip each way, pipelined.
"""

from __future__ import annotations

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


class StateStore(Protocol):
    def layout(self, widths: list[int]) -> None:
        """How many states (slots) a row of each key group holds; set once at start."""

    def load(self, tenant: str, keys: list[LoadKey]) -> list[list[Any] | None]:
        """The tenant's state rows under ``keys`` (None where absent), in order: one lookup
        per entity an event carries. A key whose entity is None (the event lacks it) is
        never stored: its row is None."""

    def save(self, tenant: str, items: list[tuple[StateKey, int, Any]]) -> None:
        """Store changed states of the tenant, each in a slot of its key's row (created on
        first save). (The memory backend's states change in place: only new ones alter
        its rows.)"""

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

    if name not in STATE_STORES:
        raise ConfigError(f"unknown state store {name!r}; registered: {sorted(STATE_STORES)}")
    return STATE_STORES[name](**options)


def make_decision_log(name: str, **options: Any) -> DecisionLog:
    from shopguard.errors import ConfigError
    from shopguard.state import memory, sqlite  # noqa: F401  (register themselves)

    if name not in DECISION_LOGS:
        raise ConfigError(f"unknown decision log {name!r}; registered: {sorted(DECISION_LOGS)}")
    return DECISION_LOGS[name](**options)
