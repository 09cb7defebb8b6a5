"""Confirmed cases and what they add up to.

Owns the label vocabulary (``Label``: fraud, chargeback, theft, abuse or legit, for an
event or an entity, with the time it became known) and merchant health: decided volume,
value blocked, confirmed loss and loss rate per merchant, folded from the decision log.
"""

from shopguard.labels.health import MerchantHealth, MerchantLedger, event_money, ledger_merchant
from shopguard.labels.label import LABEL_KINDS, LOSS_KINDS, Label, latest_labels

__all__ = [
    "LABEL_KINDS",
    "LOSS_KINDS",
    "Label",
    "MerchantHealth",
    "MerchantLedger",
    "event_money",
    "latest_labels",
    "ledger_merchant",
]
