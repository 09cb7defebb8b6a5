"""The `/v1` handlers: decisions, labels, merchant health. Each authorizes, decodes once
with msgspec, calls the engine, and encodes the answer; errors become problems."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from shopguard.api.guard import authorize, body, same_tenant
from shopguard.api.problems import ProblemError
from shopguard.decision import Decision
from shopguard.engine import Engine
from shopguard.errors import InvalidEvent
from shopguard.events.decode import decode_batch, decode_event, parse_instant

_encode = msgspec.json.Encoder().encode


class Decisions(msgspec.Struct):
    decisions: list[Decision]


def respond(value: Any, status: int = 200) -> Response:
    return Response(_encode(value), status, media_type="application/json")


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _count(request: Request, decisions: list[Decision]) -> None:
    metrics = request.app.state.metrics
    for d in decisions:
        metrics.decided(d.type, d.outcome).inc()
        metrics.latency.observe(d.latency_us / 1e6)


async def decide(request: Request) -> Response:
    key = authorize(request, "decide")
    event = engine_of(request).admit(decode_event(await body(request)))
    same_tenant(key, event.tenant)
    decision = await request.app.state.commits.decide(event)  # durable before we answer
    _count(request, [decision])
    return respond(decision)


async def decide_batch(request: Request) -> Response:
    key = authorize(request, "decide")
    events = decode_batch(await body(request))
    limit: int = request.app.state.max_batch
    if len(events) > limit:
        raise ProblemError(413, "too-large", f"at most {limit:,} events per batch", "$")
    for i, event in enumerate(events):
        same_tenant(key, event.tenant, f"$[{i}].tenant")
        try:
            engine_of(request).admit(event)
        except InvalidEvent as exc:
            raise InvalidEvent(str(exc), f"$[{i}]" + exc.path[1:]) from None
    decisions = engine_of(request).decide_many(events, admitted=True)  # all or nothing
    _count(request, decisions)
    return respond(Decisions(decisions))


async def get_decision(request: Request) -> Response:
    key = authorize(request, "decide")
    event_id = request.path_params["event_id"]
    decision = engine_of(request).find(key.tenant, event_id)
    if decision is None:
        raise ProblemError(404, "not-found", f"no decision for event {event_id!r}")
    return respond(decision)


async def add_label(request: Request) -> Response:
    key = authorize(request, "label")
    try:
        fields = msgspec.json.decode(await body(request))
    except msgspec.DecodeError as exc:
        raise InvalidEvent(f"malformed JSON: {exc}", "$") from None
    if not isinstance(fields, dict):
        raise InvalidEvent("a label is a JSON object", "$")
    fields.setdefault("tenant", key.tenant)
    same_tenant(key, str(fields["tenant"]))
    # Who said so is the key, never the body: a caller's own word is kept as a note after it.
    note = fields.get("source")
    if note is not None and not isinstance(note, str):
        raise InvalidEvent("source is a string", "$.source")
    fields["source"] = f"api:{key.id}" + (f" ({note[:100]})" if note else "")
    label = engine_of(request).label(fields)
    return respond(label, 201)


async def merchant_health(request: Request) -> Response:
    key = authorize(request, "label")
    merchant = request.path_params["merchant"]
    q = request.query_params
    rows = engine_of(request).merchant_health(
        key.tenant,
        query_instant(q.get("since"), 0.0, "since"),
        query_instant(q.get("until"), float("inf"), "until"),
        query_instant(q.get("known_by"), None, "known_by"),
    )
    found = next((h for h in rows if h.merchant == merchant), None)
    if found is None:
        raise ProblemError(404, "not-found", f"no decided events for merchant {merchant!r}")
    return respond(found)


def query_instant(text: str | None, default: float | None, name: str) -> Any:
    if text is None:
        return default
    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_instant(text)
    except ValueError:
        raise ProblemError(
            400, "bad-request", f"{name}: use epoch seconds or ISO 8601", f"$.query.{name}"
        ) from None
