"""The console's Webhooks page: the tenant's partner endpoints and their recent
deliveries. Anyone signed in sees them; admins (role admin) add, rotate, disable,
delete and redeliver. A new secret is shown once, on the page that made it."""

from __future__ import annotations

import time

import msgspec
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from shopguard.console.forms import field
from shopguard.console.users import User
from shopguard.console.web import engine_of, page, render
from shopguard.errors import InvalidEvent
from shopguard.webhooks import service
from shopguard.webhooks.endpoints import (
    KINDS,
    EndpointChange,
    Filters,
    NewEndpoint,
    Status,
    WithSecret,
)
from shopguard.webhooks.protocol import WebhookStorage
from shopguard.webhooks.targets import TargetRefused

_STATUSES = ("pending", "delivered", "dead")


def _words(form: FormData, name: str) -> list[str]:
    """A comma-separated field as a list ("" is none: no narrowing)."""
    return [w.strip() for w in field(form, name, 2000, required=False).split(",") if w.strip()]


def _filters(form: FormData) -> Filters:
    raw = {
        name: _words(form, name)
        for name in ("outcomes", "tags", "merchants", "event_types", "lists", "list_kinds")
    }
    try:
        return msgspec.convert({k: v for k, v in raw.items() if v}, Filters)
    except msgspec.ValidationError as exc:
        raise InvalidEvent(f"filters: {exc}", "filters") from None


async def _act(request: Request, store: WebhookStorage, user: User, form: FormData) -> str:
    """Carry out one form; returns what to tell the user (a secret, once)."""
    if user.role != "admin":
        raise InvalidEvent("only admins change webhooks", "action")
    action = field(form, "action", 32)
    engine = engine_of(request)
    made: WithSecret | None = None
    if action == "add":
        kinds = [k for k in KINDS if form.get(f"kind_{k}")]
        if not kinds:
            raise InvalidEvent("kinds: pick at least one", "kinds")
        new = NewEndpoint(field(form, "url", 2048), field(form, "description", 500, False),
                          kinds, _filters(form))  # fmt: skip
        made = await service.create(store, engine, user.tenant, new)
        return f"endpoint {made.endpoint.id} added; its signing secret (shown once): {made.secret}"
    if action == "redeliver":
        number = field(form, "delivery", 18)
        if not number.isdecimal() or store.redeliver(user.tenant, int(number), time.time()) is None:
            raise InvalidEvent("no such delivery", "delivery")
        return f"delivery {number} will be sent again (same webhook-id)"
    endpoint = field(form, "endpoint", 64)
    if store.endpoint(user.tenant, endpoint) is None:
        raise InvalidEvent("no such endpoint", "endpoint")
    if action == "rotate":
        made = service.rotate(store, engine, user.tenant, endpoint)
        assert made is not None
        until = time.strftime("%Y-%m-%d %H:%M", time.gmtime(made.endpoint.rotating_until or 0))
        overlap = f"the old one signs too until {until} UTC"
        return f"new secret for {endpoint} (shown once; {overlap}): {made.secret}"
    if action in ("enable", "disable"):
        status: Status = "enabled" if action == "enable" else "disabled"
        store.change(user.tenant, endpoint, EndpointChange(status=status))
        return f"endpoint {endpoint} {status}"
    if action == "delete":
        store.delete(user.tenant, endpoint)
        return f"endpoint {endpoint} deleted"
    raise InvalidEvent(f"unknown action {action!r}", "action")


@page()
async def webhooks(request: Request, user: User) -> Response:
    try:
        store = service.store_of(request.app.state)
    except service.Unavailable as exc:
        return render(request, "webhooks.html", user, unavailable=str(exc))
    notice, error = "", ""
    if request.method == "POST":
        try:
            notice = await _act(request, store, user, await request.form())
        except (InvalidEvent, TargetRefused) as exc:
            error = f"refused: {exc}"
    q = request.query_params
    status = q.get("status") if q.get("status") in _STATUSES else None
    endpoint = q.get("endpoint") or None
    response = render(
        request,
        "webhooks.html",
        user,
        endpoints=store.endpoints(user.tenant),
        deliveries=store.deliveries(user.tenant, endpoint, status, 100),
        kinds=KINDS,
        statuses=_STATUSES,
        status=status or "",
        endpoint=endpoint or "",
        notice=notice,
        error=error,
        unavailable="",
    )
    response.status_code = 400 if error else 200
    return response


def routes() -> list[BaseRoute]:
    return [Route("/console/webhooks", webhooks, methods=["GET", "POST"])]
