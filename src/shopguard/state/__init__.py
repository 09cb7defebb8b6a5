"""State: the feature store and the decision log, as small protocols with named backends.

- ``StateStore`` holds windowed feature state (memory by default; Redis later).
- ``DecisionLog`` is the durable journal: decisions, the desensitized facts that let the
  state be rebuilt, list operations and the alerts outbox (SQLite WAL by default;
  PostgreSQL later). Memory state + SQLite journal = the embedded, durable default.
- With a shared store, what workers share besides feature state: ``claims`` (an event id
  decided once across workers), ``changes`` (the stream of list and link changes),
  ``peers`` (both, one pipeline each way per batch) and ``connect`` (their Redis client
  and breaker).
"""

from shopguard.state.protocol import (
    DECISION_LOGS,
    STATE_STORES,
    DecisionLog,
    LogRecord,
    StateStore,
    make_decision_log,
    make_state_store,
)

__all__ = [
    "DECISION_LOGS",
    "STATE_STORES",
    "DecisionLog",
    "LogRecord",
    "StateStore",
    "make_decision_log",
    "make_state_store",
]
