"""Lists: allow / deny / watch entries per entity kind, with TTLs, reasons and strikes.

An allow entry short-circuits the pipeline to allow; a deny entry to deny; a watch entry
is a fact rules can read with ``listed('watch', 'device')``.
"""

from shopguard.lists.store import ListEntry, ListOp, ListStore

__all__ = ["ListEntry", "ListOp", "ListStore"]
