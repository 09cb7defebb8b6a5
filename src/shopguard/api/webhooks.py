"""The `/v1/webhooks` handlers: a tenant's partner endpoints (admin keys, the key's own
tenant only), the delivery log and redelivery. A secret is shown once, when made."""

from __future__ import annotations

import re
import time
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from shopguard.api import params
from shopguard.api.endpoints import engine_of, respond
from shopguard.api.guard import authorize, body
from shopguard.api.openapi import Endpoint as Route
from shopguard.api.problems import ProblemError
from shopguard.events.decode import invalid_input
from shopguard.webhooks import service
from shopguard.webhooks.endpoints import (
    Endpoint,
    EndpointChange,
    Endpoints,
    NewEndpoint,
    WithSecret,
)
from shopguard.webhooks.log import Deliveries, Delivery
from shopguard.webhooks.protocol import WebhookStorage
from shopguard.webhooks.targets import TargetRefused

_STATUSES = ("pending", "delivered", "dead")


def _store(request: Request) -> WebhookStorage:
    try:
        return service.store_of(request.app.state)
    except service.Unavailable as exc:
        raise ProblemError(409, "conflict", str(exc)) from None


def _decode(raw: bytes, kind: type[Any]) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.DecodeError as exc:
        raise invalid_input(exc) from None


def _missing(what: str) -> ProblemError:
    return ProblemError(404, "not-found", f"no such {what} for this tenant")


async def create_endpoint(request: Request) -> Response:
    key = authorize(request, "admin")
    new: NewEndpoint = _decode(await body(request), NewEndpoint)
    try:
        made = await service.create(_store(request), engine_of(request), key.tenant, new)
    except TargetRefused as exc:
        raise ProblemError(422, "invalid-input", str(exc), "$.url") from None
    return respond(made, 201)


async def list_endpoints(request: Request) -> Response:
    key = authorize(request, "admin")
    return respond(Endpoints(_store(request).endpoints(key.tenant)))


async def get_endpoint(request: Request) -> Response:
    key = authorize(request, "admin")
    found = _store(request).endpoint(key.tenant, request.path_params["endpoint"])
    if found is None:
        raise _missing("endpoint")
    return respond(found)


async def change_endpoint(request: Request) -> Response:
    key = authorize(request, "admin")
    change: EndpointChange = _decode(await body(request), EndpointChange)
    endpoint_id = request.path_params["endpoint"]
    try:
        found = await service.change(
            _store(request), engine_of(request), key.tenant, endpoint_id, change
        )
    except TargetRefused as exc:
        raise ProblemError(422, "invalid-input", str(exc), "$.url") from None
    if found is None:
        raise _missing("endpoint")
    return respond(found)


async def delete_endpoint(request: Request) -> Response:
    key = authorize(request, "admin")
    if not _store(request).delete(key.tenant, request.path_params["endpoint"]):
        raise _missing("endpoint")
    return Response(status_code=204)


async def rotate_secret(request: Request) -> Response:
    key = authorize(request, "admin")
    endpoint_id = request.path_params["endpoint"]
    made = service.rotate(_store(request), engine_of(request), key.tenant, endpoint_id)
    if made is None:
        raise _missing("endpoint")
    return respond(made)


async def list_deliveries(request: Request) -> Response:
    key = authorize(request, "admin")
    q = request.query_params
    status = q.get("status")
    if status is not None and status not in _STATUSES:
        raise ProblemError(
            400, "bad-request", "status: pending, delivered or dead", "$.query.status"
        )
    limit, before = _number(q.get("limit", "100"), "limit"), q.get("before")
    if not 1 <= limit <= 1000:
        raise ProblemError(400, "bad-request", "limit: 1 to 1000", "$.query.limit")
    found = _store(request).deliveries(
        key.tenant, q.get("endpoint"), status, limit, _number(before, "before") if before else None
    )
    return respond(Deliveries(found))


async def get_delivery(request: Request) -> Response:
    key = authorize(request, "admin")
    found = _store(request).delivery(key.tenant, _id(request))
    if found is None:
        raise _missing("delivery")
    return respond(found)


async def redeliver(request: Request) -> Response:
    key = authorize(request, "admin")
    found = _store(request).redeliver(key.tenant, _id(request), time.time())
    if found is None:
        raise _missing("delivery")
    return respond(found)


def _id(request: Request) -> int:
    text = request.path_params["delivery"]
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise _missing("delivery")
    return int(text)


def _number(text: str, name: str) -> int:
    if not re.fullmatch(r"[0-9]{1,18}", text):
        raise ProblemError(400, "bad-request", f"{name}: a whole number", f"$.query.{name}")
    return int(text)


_EP = "/v1/webhooks/endpoints"
ROUTES = [
    Route(
        "POST",
        _EP,
        create_endpoint,
        "Register a partner endpoint; its signing secret is in this answer only",
        "admin",
        NewEndpoint,
        WithSecret,
        201,
    ),
    Route(
        "GET",
        _EP,
        list_endpoints,
        "This tenant's endpoints (never their secrets)",
        "admin",
        None,
        Endpoints,
    ),
    Route("GET", _EP + "/{endpoint}", get_endpoint, "One endpoint", "admin", None, Endpoint),
    Route(
        "PATCH",
        _EP + "/{endpoint}",
        change_endpoint,
        "Change an endpoint's URL, kinds,"
        " filters or status (enabled turns one a 410 disabled back on)",
        "admin",
        EndpointChange,
        Endpoint,
    ),
    Route(
        "DELETE",
        _EP + "/{endpoint}",
        delete_endpoint,
        "Remove an endpoint (its pending deliveries end as dead)",
        "admin",
        status=204,
    ),
    Route(
        "POST",
        _EP + "/{endpoint}:rotate",
        rotate_secret,
        "A new signing secret (shown once); the old one also signs for webhooks_rotation_overlap",
        "admin",
        None,
        WithSecret,
    ),
    Route(
        "GET",
        "/v1/webhooks/deliveries",
        list_deliveries,
        "The delivery log, newest first:"
        " by endpoint and status (pending, delivered, dead); page on with before",
        "admin",
        None,
        Deliveries,
        params=(
            params.WEBHOOK_ENDPOINT,
            params.DELIVERY_STATUS,
            params.DELIVERY_LIMIT,
            params.DELIVERY_BEFORE,
        ),
    ),
    Route(
        "GET",
        "/v1/webhooks/deliveries/{delivery}",
        get_delivery,
        "One delivery with every attempt",
        "admin",
        None,
        Delivery,
    ),
    Route(
        "POST",
        "/v1/webhooks/deliveries/{delivery}:redeliver",
        redeliver,
        "Send a delivery again now (same webhook-id, a fresh retry window)",
        "admin",
        None,
        Delivery,
    ),
]
