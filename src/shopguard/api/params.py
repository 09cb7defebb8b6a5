"""The query and path parameters of the endpoint table, typed as their handlers parse them:
the OpenAPI document (and so the fuzz test, which generates values from it) sees what a
handler accepts, and a new parameter without a type or a description fails a test."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple, get_args

from shopguard.lists.store import ListName
from shopguard.state.search import INDEXED_KINDS, OutcomeName


class Param(NamedTuple):
    name: str
    schema: dict[str, Any]  # JSON Schema of the value, as the handler reads it
    description: str
    where: Literal["query", "path"] = "query"


# query_instant (api/endpoints.py) reads epoch seconds or ISO 8601; the date-time form is
# what a person writes, and both are said in the description.
_INSTANT = {"type": "string", "format": "date-time"}
_WHOLE = {"type": "integer", "minimum": 0, "maximum": 10**18 - 1}  # admin._whole: 18 digits


def _instant(name: str, what: str) -> Param:
    return Param(name, _INSTANT, f"{what} (ISO 8601 with a zone, or epoch seconds).")


SINCE = _instant("since", "Only events at or after this event time")
UNTIL = _instant("until", "Only events before this event time")
KNOWN_BY = _instant(
    "known_by", "Count only labels known by then, to see health as it stood at that time"
)
OUTCOME = Param(
    "outcome", {"type": "string", "enum": list(get_args(OutcomeName))}, "Only this outcome."
)
RULE = Param(
    "rule", {"type": "string"}, "Only decisions this rule fired in (a rule id, or list:deny)."
)
SHADOW = Param("shadow", {"type": "string"}, "Only decisions this shadow rule fired in.")
ENTITY = Param(
    "entity",
    {"type": "string"},
    "Only decisions about this entity: kind:pseudonym (device:k1.3f2a...), or kind:raw value"
    " with raw=true.",
)
RAW = Param(
    "raw",
    {"type": "boolean", "default": False},
    "The value names a raw identity (a phone, an e-mail), pseudonymized here; otherwise a"
    " pseudonym.",
)
BEFORE = Param(
    "before",
    _WHOLE,
    "Page on: only records older than this one (the previous page's next_before).",
)
LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    "At most this many decisions.",
)
LIST = Param("list", {"type": "string", "enum": list(get_args(ListName))}, "Only this list.")
KIND = Param("kind", {"type": "string"}, "Only this entity kind (account, device, phone...).")

# Path parameters: one meaning per name, unless an endpoint declares its own.
PATH: dict[str, Param] = {
    p.name: p
    for p in (
        Param("event_id", {"type": "string"}, "The decided event's event_id.", "path"),
        Param("merchant", {"type": "string"}, "The merchant, as events name it.", "path"),
        Param("list", LIST.schema, "The list.", "path"),
        Param("kind", {"type": "string"}, "The entity kind (account, device, phone...).", "path"),
        Param(
            "value",
            {"type": "string"},
            "The entity: its pseudonym, or the raw value with raw=true.",
            "path",
        ),
        Param("endpoint", {"type": "string"}, "The webhook endpoint's id.", "path"),
        Param(
            "delivery",
            {"type": "integer", "minimum": 0, "maximum": 10**18 - 1},
            "The delivery's id (from the delivery log).",
            "path",
        ),
        Param(
            "number",
            {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
            "The ruleset version's number.",
            "path",
        ),
    )
}
ERASE_KIND = Param(
    "kind",
    {"type": "string", "enum": list(INDEXED_KINDS)},
    "The kind of identity to erase (the kinds the decision index holds).",
    "path",
)

# The webhook delivery log (api/webhooks.py).
WEBHOOK_ENDPOINT = Param("endpoint", {"type": "string"}, "Only deliveries to this endpoint id.")
DELIVERY_STATUS = Param(
    "status",
    {"type": "string", "enum": ["pending", "delivered", "dead"]},
    "Only deliveries in this state (dead: retried for the whole window, or the endpoint went).",
)
DELIVERY_LIMIT = Param(
    "limit",
    {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
    "At most this many deliveries.",
)
DELIVERY_BEFORE = Param(
    "before", _WHOLE, "Page on: only deliveries with a smaller id than this one."
)
