"""The `/v1` handlers analysts and operators use: decision search, lists, erasure of one
entity, and ruleset versions. Rulesets are the deployment's, not a tenant's: only admin
keys of the operator tenant (``default_tenant``) may read or change them."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from shopguard.api.endpoints import engine_of, query_instant, respond
from shopguard.api.guard import authorize, body
from shopguard.api.keys import ApiKey
from shopguard.api.problems import ProblemError
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.events.catalog import ID_PATTERN
from shopguard.events.decode import invalid_input, json_path
from shopguard.lists.store import ListEntry, ListName
from shopguard.lists.ttl import parse_ttl
from shopguard.rules import swap, versions
from shopguard.rules.versions import Change, Rollout, Standing, Version
from shopguard.state.search import DecisionQuery

TRUE = ("1", "true", "yes")
_TEXT = r"^[^\x00-\x08\x0b-\x1f\x7f]*$"  # free text: tabs and newlines, no other controls


class NewEntry(msgspec.Struct, forbid_unknown_fields=True):
    list: ListName
    kind: Annotated[str, msgspec.Meta(max_length=32)]
    value: Annotated[str, msgspec.Meta(min_length=1, max_length=256, pattern=ID_PATTERN)]
    ttl: Annotated[str, msgspec.Meta(max_length=32)] | None = None  # 30d; none: until removed
    reason: Annotated[str, msgspec.Meta(max_length=500, pattern=_TEXT)] = ""
    raw: bool = True  # a raw identity (pseudonymized here) rather than a pseudonym


class Entries(msgspec.Struct):
    entries: list[ListEntry]


class NewRuleset(msgspec.Struct, forbid_unknown_fields=True):
    text: str  # a whole rules.yaml for the running pack
    note: str = ""


class Rulesets(msgspec.Struct):
    standing: Standing
    versions: list[Version]
    changes: list[Change]


class Erased(msgspec.Struct):
    decisions: int
    list_ops: int
    labels: int
    state: int
    list_entries: int


def _decode(raw: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.DecodeError as exc:
        raise invalid_input(exc) from None


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").lower() in TRUE


# -- search ------------------------------------------------------------------------------
async def search_decisions(request: Request) -> Response:
    key = authorize(request, "decide")
    q = request.query_params
    fields: dict[str, Any] = {"tenant": key.tenant}
    for name in ("since", "until"):
        if name in q:
            fields[name] = query_instant(q[name], None, name)
    for name in ("outcome", "rule", "shadow", "entity"):
        if name in q:
            fields[name] = q[name]
    for name in ("before", "limit"):
        if name in q:
            whole = _whole(q[name])
            if whole is None:
                raise ProblemError(400, "bad-request", f"{name}: a whole number", f"$.query.{name}")
            fields[name] = whole
    entity = fields.get("entity")
    if entity and _flag(request, "raw"):
        kind, _, value = entity.partition(":")
        fields["entity"] = (
            f"{kind}:{engine_of(request).entity_value(key.tenant, kind, value, True)}"
        )
    try:
        query = msgspec.convert(fields, DecisionQuery)
    except msgspec.ValidationError as exc:
        field = f"$.query.{json_path(str(exc))[2:]}"
        raise ProblemError(400, "bad-request", str(exc), field) from None
    if not 1 <= query.limit <= 1000:
        raise ProblemError(400, "bad-request", "limit: 1 to 1000", "$.query.limit")
    return respond(engine_of(request).search(query))


# -- lists -------------------------------------------------------------------------------
async def list_entries(request: Request) -> Response:
    key = authorize(request, "decide")
    q = request.query_params
    engine = engine_of(request)
    entries = [
        e
        for e in engine.lists.entries(engine.clock(), tenant=key.tenant)
        if q.get("list", e.list) == e.list and q.get("kind", e.kind) == e.kind
    ]
    entries.sort(key=lambda e: (e.list, e.kind, e.value))
    return respond(Entries(entries))


async def add_entry(request: Request) -> Response:
    key = authorize(request, "label")
    new: NewEntry = _decode(await body(request), NewEntry)
    if new.ttl:
        try:
            parse_ttl(new.ttl)
        except ConfigError as exc:
            raise InvalidEvent(str(exc), "$.ttl") from None
    try:
        entry = engine_of(request).list_add(
            new.list,
            new.kind,
            new.value,
            tenant=key.tenant,
            ttl=new.ttl,
            reason=new.reason,
            source=f"api:{key.id}",
            raw=new.raw,
        )
    except ConfigError as exc:
        raise InvalidEvent(str(exc), "$.ttl" if "duration" in str(exc) else "$.kind") from None
    return respond(entry, 201)


async def remove_entry(request: Request) -> Response:
    key = authorize(request, "label")
    p = request.path_params
    removed = engine_of(request).list_remove(
        p["list"], p["kind"], p["value"], tenant=key.tenant, raw=_flag(request, "raw")
    )
    if not removed:
        raise ProblemError(404, "not-found", "no such entry for this tenant")
    return Response(status_code=204)


# -- erasure -----------------------------------------------------------------------------
async def erase_entity(request: Request) -> Response:
    key = authorize(request, "admin")
    p = request.path_params
    counts = engine_of(request).erase(key.tenant, p["kind"], p["value"], raw=_flag(request, "raw"))
    return respond(msgspec.convert(counts, Erased))


# -- rulesets ----------------------------------------------------------------------------
def _operator(request: Request) -> tuple[ApiKey, versions.Rulesets]:
    key = authorize(request, "admin")
    if key.tenant != request.app.state.operator_tenant:
        raise ProblemError(403, "forbidden", "rulesets belong to the operator tenant's admins")
    store: versions.Rulesets = request.app.state.rulesets
    return key, store


async def rulesets(request: Request) -> Response:
    _, store = _operator(request)
    return respond(Rulesets(store.standing(), store.versions(), store.changes()))


async def get_ruleset(request: Request) -> Response:
    _, store = _operator(request)
    version = store.version(_int(request.path_params["number"]))
    if version is None:
        raise ProblemError(404, "not-found", "no such ruleset version")
    return respond(version)


async def upload_ruleset(request: Request) -> Response:
    key, store = _operator(request)
    new: NewRuleset = _decode(await body(request), NewRuleset)
    await _check(request, new.text)
    version = store.upload(new.text, f"key:{key.id}", new.note)
    return respond(msgspec.structs.replace(version, text=""), 201)


async def validate_ruleset(request: Request) -> Response:
    _operator(request)
    new: NewRuleset = _decode(await body(request), NewRuleset)
    rules = await _check(request, new.text)
    return respond({"valid": True, "rules": rules})


async def _check(request: Request, text: str) -> int:
    try:
        return len((await swap.checked(engine_of(request), text)).rules)
    except ConfigError as exc:
        raise InvalidEvent(str(exc), "$.text") from None


class RolloutTerms(msgspec.Struct, forbid_unknown_fields=True):
    percent: Annotated[float, msgspec.Meta(ge=0, le=100)]  # share of traffic it decides
    by: Literal["account", "device", "ip"] = "account"  # the entity hashed into buckets


def _change(
    action: Literal["publish", "shadow", "promote", "rollback", "unshadow", "rollout"],
) -> Any:
    async def handler(request: Request) -> Response:
        key, store = _operator(request)
        number = request.path_params.get("number")
        engine = engine_of(request)
        actor = f"key:{key.id}"
        terms = None
        if action == "rollout":
            given: RolloutTerms = _decode(await body(request), RolloutTerms)
            terms = Rollout(given.percent, given.by)
        try:
            standing = await swap.change(
                request.app.state,
                engine,
                store,
                action,
                actor,
                _int(number) if number else None,
                terms,
            )
        except swap.Refused as exc:
            raise ProblemError(422, "invalid-input", str(exc)) from None
        except ConfigError as exc:
            raise ProblemError(409, "conflict", str(exc)) from None
        return respond(standing)

    handler.__name__ = f"{action}_ruleset"
    return handler


def _int(text: str) -> int:
    number = _whole(text)
    if number is None:
        raise ProblemError(404, "not-found", "ruleset versions are numbered 1, 2, 3...")
    return number


def _whole(text: str) -> int | None:
    """A whole number SQLite can hold (18 digits at most), or None."""
    return int(text) if re.fullmatch(r"[0-9]{1,18}", text) else None


publish_ruleset = _change("publish")
shadow_ruleset = _change("shadow")
promote_ruleset = _change("promote")
rollback_ruleset = _change("rollback")
unshadow_ruleset = _change("unshadow")
rollout_ruleset = _change("rollout")
