"""The PostgreSQL decision log (``decision_log: postgres``): one journal for several workers.

Owns the journal's tables in ``postgres_schema`` and their migrations (schema.py), the
connection and its errors (connect.py), appending and reading per writer (log.py), the
SQL answers: search, labels, merchant health (queries.py), retention by dropping time
partitions and erasure (upkeep.py), and ``verify`` over every writer's chains
(verify.py). Importing it registers ``DECISION_LOGS["postgres"]``.
"""

from shopguard.state.postgres.log import PostgresDecisionLog
from shopguard.state.protocol import DECISION_LOGS

DECISION_LOGS["postgres"] = PostgresDecisionLog

__all__ = ["PostgresDecisionLog"]
