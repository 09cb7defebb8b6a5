"""The registries every worker of a deployment must share: ruleset versions, the model
registry's trail, API keys and console users. Each has a SQLite backend (one data
directory) and a PostgreSQL one (``decision_log: postgres``), chosen by one factory each
(``open_rulesets``, ``open_models``, ``open_keys``, ``open_users``, in ``factories``).
This package owns the PostgreSQL plumbing they share (``postgres``: connection,
migrations under an advisory lock, revision counters, change notices, sealed heads) and
the ``ChangeFeed`` a worker listens on to hear another worker's change within a second.
"""

from shopguard.registries.factories import (
    open_feed,
    open_keys,
    open_models,
    open_rulesets,
    open_users,
    shared,
)
from shopguard.registries.feed import Change, ChangeFeed
from shopguard.registries.postgres import CHANNEL

__all__ = [
    "CHANNEL",
    "Change",
    "ChangeFeed",
    "open_feed",
    "open_keys",
    "open_models",
    "open_rulesets",
    "open_users",
    "shared",
]
