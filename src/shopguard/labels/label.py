"""A label: somebody (a chargeback file, an analyst, a cabinet audit) confirms a case.

Labels arrive late and may correct each other (an analyst clears what a rule called
fraud): for any one event the label known last wins. Entities are stored as pseudonyms
only; the engine pseudonymizes raw values before a label reaches storage.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal

import msgspec

from shopguard.desensitize.schema import ENTITY_KINDS, PSEUDONYMIZED
from shopguard.errors import InvalidLabel
from shopguard.events.decode import json_path

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
        raise InvalidLabel(message.split(" - at `")[0], json_path(message)) from None


def label_from(
    fields: dict[str, Any], pseudonym: Callable[[str, str, str], str] | None = None
) -> Label:
    """A checked label whose raw entity value (a phone, a card...) is replaced by
    ``pseudonym(tenant, kind, raw)``; without one the entity is taken as a pseudonym."""
    kind, value = fields.get("entity_kind"), fields.get("entity")
    if kind is not None and kind not in ENTITY_KINDS:
        raise InvalidLabel(f"unknown entity kind {kind!r}", "$.entity_kind")
    if pseudonym is not None and kind in PSEUDONYMIZED and isinstance(value, str):
        fields = {**fields, "entity": pseudonym(str(fields.get("tenant")), kind, value)}
    return to_label(fields)


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
