"""The local spool: decisions journaled on this machine's disk while the primary
decision log (PostgreSQL) is unreachable, and drained to it in order once it answers.

- ``store.py``: the spool file (SQLite WAL under ``data_dir/spool``, one per writer).
- ``log.py``: ``SpoolingLog``, a DecisionLog wrapping the primary and the spool, and its
  drainer.
"""

from shopguard.state.spool.log import SpoolingLog
from shopguard.state.spool.store import SpoolFile

__all__ = ["SpoolFile", "SpoolingLog"]
