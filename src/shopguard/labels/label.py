"""A label: somebody (a chargeback file, an analyst, a cabinet audit) confirms a case.

Labels arrive late and may correct each other (an analyst clears what a rule called
fraud): for any one event the label known last wins. Entities are stored as pseudonyms
only; the engine pseudonymizes raw values before a label reaches storage.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any, Literal

import msgspec

from shopguard.errors import InvalidLabel

LabelKind = Literal["fraud", "chargeback", "theft", "abuse", "legit"]
LABEL_KINDS: tuple[str, ...] = ("fraud", "chargeback", "theft", "abuse", "legit")
LOSS_KINDS = frozenset({"fraud", "chargeback", "theft", "abuse"})  # money actually lost
Money = Annotated[float, msgspec.Meta(ge=0, le=1e12)]


class Label(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    tenant: str
    kind: LabelKind
    known_at: float  # when the label became known (epoch seconds), not when it happened
    event_id: str | None = None  # the decided event it is about, or
    entity_kind: str | None = None  # an entity (account, device, card...): a pseudonym
    entity: str | None = None
    loss: Money = 0.0  # money lost on this case (chargeback amount, goods stolen)
    merchant: str | None = None  # whose loss it is, where no logged event says
    source: str = ""  # who said so: "chargeback-file", "analyst:li", "cabinet-audit"

    def __post_init__(self) -> None:
        if self.event_id is None and self.entity is None:
            raise ValueError("a label names an event_id or an entity")
        if (self.entity is None) != (self.entity_kind is None):
            raise ValueError("entity and entity_kind go together")


label_encoder = msgspec.json.Encoder()
label_decoder = msgspec.json.Decoder(Label)


def to_label(fields: dict[str, Any]) -> Label:
    """A label from plain fields, checked; errors name the field."""
    try:
        return msgspec.convert(fields, Label)
    except msgspec.ValidationError as exc:
        message = str(exc)
        path = message.rsplit(" - at `", 1)[1].rstrip("`") if " - at `" in message else "$"
        raise InvalidLabel(message.split(" - at `")[0], path) from None


def latest_labels(labels: Iterable[Label]) -> list[Label]:
    """One label per event (the one known last; ties: the one recorded last), plus every
    label that names no event."""
    by_event: dict[tuple[str, str], Label] = {}
    loose: list[Label] = []
    for label in labels:
        if label.event_id is None:
            loose.append(label)
            continue
        key = (label.tenant, label.event_id)
        old = by_event.get(key)
        if old is None or label.known_at >= old.known_at:
            by_event[key] = label
    return [*by_event.values(), *loose]
