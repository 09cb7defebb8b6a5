"""What the console's forms write, each field checked before anything is: a missing or
malformed one raises :class:`~shopguard.errors.InvalidEvent` naming it (the page answers
400 with the message), never a KeyError."""

from __future__ import annotations

from starlette.datastructures import FormData

from shopguard.console.users import User
from shopguard.desensitize.schema import ENTITY_KINDS
from shopguard.engine import Engine
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.events.catalog import is_id
from shopguard.lists.store import LIST_ORDER
from shopguard.lists.ttl import parse_ttl

MAX_EVENTS = 500  # events one review verdict labels


def field(form: FormData, name: str, limit: int = 256, required: bool = True) -> str:
    """A text field of a form ("" when optional and absent)."""
    value = form.get(name)
    if value is None or value == "":
        if required:
            raise InvalidEvent(f"{name}: required", name)
        return ""
    if not isinstance(value, str):
        raise InvalidEvent(f"{name}: text, not a file", name)
    if len(value) > limit:
        raise InvalidEvent(f"{name}: at most {limit} characters", name)
    return value


def verdict(engine: Engine, user: User, form: FormData) -> None:
    """Approve: every event of the case is labelled legit. Deny: fraud labels, and the
    account goes on the deny list for 30 days."""
    said = field(form, "verdict")
    if said not in ("approve", "deny"):
        raise InvalidEvent("verdict: approve or deny", "verdict")
    kind, _, value = field(form, "entity").partition(":")
    if kind not in ENTITY_KINDS or not is_id(value, 256):
        raise InvalidEvent("entity: kind:pseudonym, as the review queue shows it", "entity")
    events = field(form, "events", 130 * MAX_EVENTS).split()
    if not 1 <= len(events) <= MAX_EVENTS or not all(map(is_id, events)):
        raise InvalidEvent(f"events: 1 to {MAX_EVENTS} event ids, space-separated", "events")
    fraud = said == "deny"
    for event_id in events:
        engine.label(
            {
                "tenant": user.tenant,
                "event_id": event_id,
                "kind": "fraud" if fraud else "legit",
                "source": f"console:{user.name}",
            }
        )
    if fraud:
        reason = f"denied in review by {user.name}"
        engine.list_add(
            "deny", kind, value, tenant=user.tenant, ttl="30d", reason=reason, raw=False
        )


def list_change(engine: Engine, user: User, form: FormData) -> None:
    """Add an entry (a raw value, pseudonymized here) or remove one (its pseudonym)."""
    name, kind = field(form, "list", 16), field(form, "kind", 32)
    if name not in LIST_ORDER:
        raise InvalidEvent(f"list: one of {', '.join(LIST_ORDER)}", "list")
    if kind not in ENTITY_KINDS:
        raise InvalidEvent(f"kind: one of {', '.join(sorted(ENTITY_KINDS))}", "kind")
    value = field(form, "value")
    if not is_id(value, 256):
        raise InvalidEvent("value: no control characters", "value")
    if form.get("action") == "remove":
        engine.list_remove(name, kind, value, tenant=user.tenant)
        return
    ttl = field(form, "ttl", 32, required=False)
    if ttl:
        try:
            parse_ttl(ttl)
        except ConfigError as exc:
            raise InvalidEvent(f"ttl: {exc}", "ttl") from None
    engine.list_add(
        name,
        kind,
        value,
        tenant=user.tenant,
        ttl=ttl or None,
        reason=field(form, "reason", 500, required=False),
        source=f"console:{user.name}",
    )
