"""``create_app``: the endpoint table, its routes, the OpenAPI document, and the app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shopguard.api import endpoints as v1
from shopguard.api.batcher import GroupCommit
from shopguard.api.keys import KeyStore
from shopguard.api.openapi import Endpoint, document
from shopguard.api.ops import Admission, Metrics, healthz, metrics, readyz
from shopguard.api.problems import HANDLERS
from shopguard.decision import Decision
from shopguard.engine import Engine
from shopguard.events.catalog import Event
from shopguard.labels import Label, MerchantHealth


async def openapi(request: Request) -> Response:
    return JSONResponse(request.app.state.openapi)


ENDPOINTS = [
    Endpoint("POST", "/v1/decisions", v1.decide, "Decide one event", "decide", Event, Decision),
    Endpoint(
        "POST",
        "/v1/decisions:batch",
        v1.decide_batch,
        "Decide a batch of events in order, all or none, with one durable commit",
        "decide",
        list[Event],
        v1.Decisions,
    ),
    Endpoint(
        "GET",
        "/v1/decisions/{event_id}",
        v1.get_decision,
        "The decision an event got",
        "decide",
        None,
        Decision,
    ),
    Endpoint(
        "POST",
        "/v1/labels",
        v1.add_label,
        "Record a confirmed case (fraud, chargeback, theft, abuse, legit)",
        "label",
        Label,
        Label,
        201,
    ),
    Endpoint(
        "GET",
        "/v1/merchants/{merchant}/health",
        v1.merchant_health,
        "Decided volume, value blocked, confirmed loss and loss rate of one merchant",
        "label",
        None,
        MerchantHealth,
        params=("since", "until", "known_by"),
    ),
    Endpoint("GET", "/healthz", healthz, "Liveness"),
    Endpoint("GET", "/readyz", readyz, "Readiness: the engine is loaded and not draining"),
    Endpoint("GET", "/metrics", metrics, "Prometheus metrics"),
    Endpoint("GET", "/v1/openapi.json", openapi, "This document"),
]


def create_app(
    engine: Engine,
    keys: KeyStore,
    max_body_bytes: int = 1_048_576,
    max_batch: int = 1000,
    max_inflight: int = 512,
) -> Starlette:
    """The ASGI app around one engine (not thread-safe: handlers run on the event loop,
    one decision at a time; a decision takes tens of microseconds)."""
    stats = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        app.state.draining = True
        engine.close()  # checkpoint, so a restart replays little
        keys.close()

    routes = [Route(e.path, e.handler, methods=[e.method]) for e in ENDPOINTS]
    app = Starlette(
        routes=routes,
        exception_handlers=HANDLERS,
        middleware=[Middleware(Admission, limit=max_inflight, metrics=stats)],
        lifespan=lifespan,
    )
    app.state.engine, app.state.keys, app.state.metrics = engine, keys, stats
    app.state.commits = GroupCommit(engine)
    app.state.max_body_bytes, app.state.max_batch = max_body_bytes, max_batch
    app.state.draining = False
    app.state.openapi = document(ENDPOINTS)
    return app
