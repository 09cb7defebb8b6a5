"""What the console's forms write, each field checked before anything is: a missing or
malformed one raises :class:`~shopguard.errors.InvalidEvent` naming it (the page answers
400 with the message), never a KeyError."""

from __future__ import annotations

from starlette.datastructures import FormData

from shopguard.console.queue import CASE_EVENTS
from shopguard.console.users import User
from shopguard.desensitize.schema import ENTITY_KINDS
from shopguard.engine import Engine
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.events.catalog import is_id
from shopguard.lists.store import LIST_ORDER
from shopguard.lists.ttl import parse_ttl
from shopguard.rings.book import Ring

MAX_EVENTS = CASE_EVENTS  # events one review verdict labels
MAX_CASES = 100  # cases one bulk verdict decides
MAX_RING = 5000  # accounts one ring verdict lists


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
    entity goes on the deny list for 30 days."""
    said = _said(form)
    entity = _entity(field(form, "entity"))
    events = field(form, "events", 130 * MAX_EVENTS).split()
    decide_case(engine, user, said, entity, events)


def bulk_verdict(engine: Engine, user: User, form: FormData) -> int:
    """The verdict on every ticked case (``case``: "kind:pseudonym event event..."), each
    through :func:`decide_case` as the single action does; returns how many."""
    said = _said(form)
    picked = [v for v in form.getlist("case") if isinstance(v, str)]
    if not 1 <= len(picked) <= MAX_CASES:
        raise InvalidEvent(f"case: tick 1 to {MAX_CASES} cases", "case")
    cases: list[tuple[str, list[str]]] = []
    for value in picked:
        entity, _, ids = value[: 140 * MAX_EVENTS].partition(" ")
        cases.append((_entity(entity), _events(ids.split())))
    for entity, events in cases:  # all checked before any is written
        decide_case(engine, user, said, entity, events)
    return len(cases)


def decide_case(engine: Engine, user: User, said: str, entity: str, events: list[str]) -> None:
    kind, _, value = _entity(entity).partition(":")
    fraud = said == "deny"
    for event_id in _events(events):
        _label_event(engine, user, event_id, fraud)
    if fraud:
        reason = f"denied in review by {user.name}"
        engine.list_add(
            "deny", kind, value, tenant=user.tenant, ttl="30d", reason=reason,
            source=f"console:{user.name}", raw=False,
        )  # fmt: skip


def ring_verdict(
    engine: Engine, user: User, ring: Ring, form: FormData, open_events: dict[str, list[str]]
) -> str:
    """Deny or allow every member of a ring: a list entry and a fraud or legit label per
    member, and the members' open review events labelled as a verdict labels them.
    ``open_events``: account pseudonym -> its open event ids. Returns what was done."""
    said = field(form, "verdict", 8)
    if said not in ("deny", "allow"):
        raise InvalidEvent("verdict: deny or allow", "verdict")
    ttl = field(form, "ttl", 32, required=False) or "30d"
    try:
        parse_ttl(ttl)
    except ConfigError as exc:
        raise InvalidEvent(f"ttl: {exc}", "ttl") from None
    if ring.size > MAX_RING:
        raise InvalidEvent(f"ring: more than {MAX_RING} accounts, list them in batches", "ring")
    fraud, source = said == "deny", f"console:{user.name}"
    reason = f"ring {ring.ring_id} ({ring.size} accounts) {said} by {user.name}"
    labelled = 0
    for member in ring.members:
        engine.list_add(
            said, "account", member, tenant=user.tenant, ttl=ttl, reason=reason,
            source=source, raw=False,
        )  # fmt: skip
        engine.label(
            {
                "tenant": user.tenant,
                "entity_kind": "account",
                "entity": member,
                "kind": "fraud" if fraud else "legit",
                "source": source,
            },
            raw_entity=False,
        )
        for event_id in open_events.get(member, [])[:MAX_EVENTS]:
            _label_event(engine, user, event_id, fraud)
            labelled += 1
    return f"{said}: {ring.size} accounts listed and labelled, {labelled} open events labelled"


def _said(form: FormData) -> str:
    said = field(form, "verdict")
    if said not in ("approve", "deny"):
        raise InvalidEvent("verdict: approve or deny", "verdict")
    return said


def _entity(entity: str) -> str:
    kind, _, value = entity.partition(":")
    if kind not in ENTITY_KINDS or not is_id(value, 256):
        raise InvalidEvent("entity: kind:pseudonym, as the review queue shows it", "entity")
    return entity


def _events(events: list[str]) -> list[str]:
    if not 1 <= len(events) <= MAX_EVENTS or not all(map(is_id, events)):
        raise InvalidEvent(f"events: 1 to {MAX_EVENTS} event ids, space-separated", "events")
    return events


def _label_event(engine: Engine, user: User, event_id: str, fraud: bool) -> None:
    engine.label(
        {
            "tenant": user.tenant,
            "event_id": event_id,
            "kind": "fraud" if fraud else "legit",
            "source": f"console:{user.name}",
        }
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
