"""The Redis state store (``state_store: redis``): feature state in Redis hashes shared by
every worker and machine, one round trip per batch each way, compare-and-set per row.

- keys.py: row names (tenant and entity in a Cluster hash tag).
- rows.py: a row as held between its read and its write, and its encoding.
- scripts.py: the read and compare-and-set Lua scripts.
- link.py: the connection (one server or a cluster) and its breaker.
- store.py: ``RedisStateStore``.
"""

from shopguard.state.protocol import STATE_STORES
from shopguard.state.redis.store import RedisStateStore

STATE_STORES["redis"] = RedisStateStore

__all__ = ["RedisStateStore"]
