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
from shopguard.errors import InvalidEvent, InvalidLabel
from shopguard.events.catalog import ID_PATTERN, is_id
from shopguard.events.catalog import CheckedId as Id
from shopguard.events.decode import check_ip, json_path, readable

LabelKind = Literal["fraud", "chargeback", "theft", "abuse", "legit"]
LABEL_KINDS: tuple[str, ...] = ("fraud", "chargeback", "theft", "abuse", "legit")
LOSS_KINDS = frozenset({"fraud", "chargeback", "theft", "abuse"})  # money actually lost
Money = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
# A raw entity (an email, an address) may be longer than an id; a pseudonym is 27 chars.
Entity = Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=ID_PATTERN)]
_NOTE = r"^[^\x00-\x1f\x7f-\x9f]*(?![\s\S])"  # no control characters
Source = Annotated[str, msgspec.Meta(max_length=200, pattern=_NOTE)]


class Label(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    tenant: Id
    kind: LabelKind
    # when the label became known (epoch seconds), not when it happened
    known_at: Annotated[float, msgspec.Meta(ge=0, le=4102444800)]
    event_id: Id | None = None  # the decided event it is about, or
    entity_kind: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # an entity
    entity: Entity | None = None  # (account, device, card...): a pseudonym
    loss: Money = 0.0  # money lost on this case (chargeback amount, goods stolen)
    merchant: Id | None = None  # whose loss it is, where no logged event says
    # who said so: "chargeback-file", "analyst:li"; over the API always the key's id
    source: Source = ""

    def __post_init__(self) -> None:
        if self.event_id is None and self.entity is None:
            raise ValueError("a label names an event_id or an entity")
        if (self.entity is None) != (self.entity_kind is None):
            raise ValueError("entity and entity_kind go together")


class _Stored(msgspec.Struct, frozen=True, kw_only=True):
    """A label as stored before its fields were bounded: read, never refused."""

    tenant: str
    kind: str
    known_at: float
    event_id: str | None = None
    entity_kind: str | None = None
    entity: str | None = None
    loss: float = 0.0
    merchant: str | None = None
    source: str = ""


class _LabelDecoder:
    """Stored labels: checked as new ones are, and one that fails the checks of today (a
    500 KB entity stored before they existed) is still read rather than refused."""

    _strict = msgspec.json.Decoder(Label)
    _loose = msgspec.json.Decoder(_Stored)

    def decode(self, raw: bytes) -> Label:
        try:
            return self._strict.decode(raw)
        except msgspec.ValidationError:
            return Label(**msgspec.structs.asdict(self._loose.decode(raw)))


label_encoder = msgspec.json.Encoder()
label_decoder = _LabelDecoder()


def to_label(fields: dict[str, Any]) -> Label:
    """A label from plain fields, checked; errors name the field."""
    try:
        return msgspec.convert(fields, Label)
    except msgspec.ValidationError as exc:
        message = readable(str(exc))
        raise InvalidLabel(message.split(" - at `")[0], json_path(message)) from None


def label_from(
    fields: dict[str, Any], pseudonym: Callable[[str, str, str], str] | None = None
) -> Label:
    """A checked label whose raw entity value (a phone, a card...) is replaced by
    ``pseudonym(tenant, kind, raw)``; without one the entity is taken as a pseudonym."""
    kind, value = fields.get("entity_kind"), fields.get("entity")
    if kind is not None and (not isinstance(kind, str) or kind not in ENTITY_KINDS):
        raise InvalidLabel(f"unknown entity kind {str(kind)[:32]!r}", "$.entity_kind")
    if isinstance(value, str) and not is_id(value, 256):  # the raw value, bounded too
        raise InvalidLabel("entity: 1 to 256 characters, no control characters", "$.entity")
    if kind == "ip" and isinstance(value, str):
        try:
            check_ip(value, "$.entity")
        except InvalidEvent as exc:
            raise InvalidLabel(str(exc), exc.path) from None
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
