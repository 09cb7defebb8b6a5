"""ShopGuard: a real-time risk-control engine for retail, e-commerce and unmanned stores.

One event in, one decision out, through a fixed pipeline:
decode -> desensitize -> lists -> features -> rules -> model -> policy -> effects.
"""

from shopguard.decision import Decision, Reason
from shopguard.engine import Engine
from shopguard.errors import ConfigError, InvalidEvent, ShopGuardError
from shopguard.outcome import Action, Outcome
from shopguard.version import __version__

__all__ = [
    "Action",
    "ConfigError",
    "Decision",
    "Engine",
    "InvalidEvent",
    "Outcome",
    "Reason",
    "ShopGuardError",
    "__version__",
]
