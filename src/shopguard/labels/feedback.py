"""A label fed back into the features.

A confirmed case about an event the journal holds becomes the ``case.label`` a caller
would otherwise have sent: dated when the case became known, naming the labelled event's
entities by their pseudonyms (no raw value is needed, none is kept), so label features
(a terminal's fraud labels over 30 days...) count it from then on and never before.
A case about an entity (an account, a device) names that entity alone.
"""

from __future__ import annotations

import hashlib
from typing import Any

from shopguard.desensitize.schema import ENTITY_KINDS
from shopguard.labels.label import Label

# what a case.label may name: the labelled event's entities (pseudonyms and clear ids),
# their derived keys that features group by, and the channel it came through
CARRIED = (*sorted(ENTITY_KINDS), "card_bin", "channel")


def case_event_id(label: Label) -> str:
    """One id per (event or entity, verdict, time known): the same label twice counts once.
    An entity is named by a digest of its pseudonym: erasure redacts facts, not event ids."""
    about = label.event_id
    if about is None:
        named = f"{label.entity_kind}\0{label.entity}".encode()
        about = hashlib.sha256(named).hexdigest()[:24]
    return f"label:{about}:{label.kind}:{round(label.known_at * 1000)}"


def case_facts(label: Label, labelled: dict[str, Any], utc_offset_s: int) -> dict[str, Any]:
    """The facts of the ``case.label`` event for ``label`` about ``labelled`` (its facts)."""
    when = label.known_at
    facts: dict[str, Any] = {
        "event_id": case_event_id(label),
        "type": "case.label",
        "time": when,
        "hour": int((when + utc_offset_s) % 86400 // 3600),
        "tenant": label.tenant,
    }
    for key in CARRIED:
        value = labelled.get(key)
        if value is not None:
            facts[key] = value
    if label.merchant is not None:
        facts["merchant"] = label.merchant
    facts["verdict"] = label.kind
    facts["labelled_event"] = label.event_id
    facts["loss"] = label.loss
    return facts
