"""``create_app``: the endpoint table, its routes, the OpenAPI document, and the app."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from shopguard.api import admin, webhooks
from shopguard.api import endpoints as v1
from shopguard.api import params as P
from shopguard.api.batcher import GroupCommit
from shopguard.api.intake import Intake
from shopguard.api.keys import Keys
from shopguard.api.limits import Limits
from shopguard.api.openapi import Endpoint, document
from shopguard.api.ops import Admission, Metrics, healthz, metrics, readyz
from shopguard.api.problems import HANDLERS
from shopguard.console import UserStore, console_routes
from shopguard.console.throttle import LoginThrottle
from shopguard.console.users import Users
from shopguard.decision import Decision
from shopguard.engine import Engine
from shopguard.events.catalog import Event
from shopguard.labels import Label, MerchantHealth
from shopguard.lists.store import ListEntry
from shopguard.rules import swap
from shopguard.rules.versions import Rulesets, RulesetStore, Standing, Version
from shopguard.state.search import Found


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
        "GET",
        "/v1/decisions",
        admin.search_decisions,
        "Search decisions, newest first: by event time, outcome, rule, shadow rule, entity"
        " (kind:pseudonym, or kind:raw value with raw=true); page on with before",
        "decide",
        None,
        Found,
        params=(P.SINCE, P.UNTIL, P.OUTCOME, P.RULE, P.SHADOW, P.ENTITY, P.RAW, P.BEFORE, P.LIMIT),
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
        params=(P.SINCE, P.UNTIL, P.KNOWN_BY),
    ),
    Endpoint(
        "GET",
        "/v1/lists",
        admin.list_entries,
        "Live list entries of this tenant (and shared ones)",
        "decide",
        None,
        admin.Entries,
        params=(P.LIST, P.KIND),
    ),
    Endpoint(
        "POST",
        "/v1/lists",
        admin.add_entry,
        "Put an entity on the allow, deny or watch list, with an optional TTL",
        "label",
        admin.NewEntry,
        ListEntry,
        201,
    ),
    Endpoint(
        "DELETE",
        "/v1/lists/{list}/{kind}/{value}",
        admin.remove_entry,
        "Take an entity off a list (value: pseudonym, or raw with raw=true)",
        "label",
        status=204,
        params=(P.RAW,),
    ),
    Endpoint(
        "DELETE",
        "/v1/entities/{kind}/{value}",
        admin.erase_entity,
        "Erase one entity's data: journal records redacted, state, list entries, labels",
        "admin",
        None,
        admin.Erased,
        params=(P.ERASE_KIND, P.RAW),
    ),
    Endpoint(
        "GET",
        "/v1/rulesets",
        admin.rulesets,
        "Ruleset versions, what runs (champion, challenger) and the change trail",
        "admin",
        None,
        admin.Rulesets,
    ),
    Endpoint(
        "POST",
        "/v1/rulesets",
        admin.upload_ruleset,
        "Upload a new version (a whole rules.yaml), checked against the pack",
        "admin",
        admin.NewRuleset,
        Version,
        201,
    ),
    Endpoint(
        "POST",
        "/v1/rulesets:validate",
        admin.validate_ruleset,
        "Check a rules.yaml without storing it",
        "admin",
        admin.NewRuleset,
    ),
    Endpoint(
        "GET",
        "/v1/rulesets/{number}",
        admin.get_ruleset,
        "One version, with its text",
        "admin",
        None,
        Version,
    ),
    *[
        Endpoint("POST", f"/v1/rulesets/{{number}}:{action}", handler, summary, "admin")
        for action, handler, summary in (
            ("publish", admin.publish_ruleset, "Make this version the champion"),
            ("shadow", admin.shadow_ruleset, "Run this version in shadow beside the champion"),
        )
    ],
    Endpoint(
        "POST",
        "/v1/rulesets/{number}:rollout",
        admin.rollout_ruleset,
        "Let this version decide a stable share of traffic (hashed by an entity); its"
        " decisions name it and carry rollout:<version> in their trace; promote ends it",
        "admin",
        admin.RolloutTerms,
        Standing,
    ),
    *[
        Endpoint("POST", f"/v1/rulesets:{action}", handler, summary, "admin")
        for action, handler, summary in (
            ("promote", admin.promote_ruleset, "Make the challenger the champion"),
            ("rollback", admin.rollback_ruleset, "Go back to the previous champion"),
            ("unshadow", admin.unshadow_ruleset, "Stop running the challenger"),
        )
    ],
    *webhooks.ROUTES,
    Endpoint("GET", "/healthz", healthz, "Liveness"),
    Endpoint("GET", "/readyz", readyz, "Readiness: the engine is loaded and not draining"),
    Endpoint("GET", "/metrics", metrics, "Prometheus metrics"),
    Endpoint("GET", "/v1/openapi.json", openapi, "This document"),
]


async def _upkeep(engine: Engine, every: float) -> None:
    """Retention on the event loop, between requests (the engine is single-threaded)."""
    log = logging.getLogger("shopguard.upkeep")
    while True:
        await asyncio.sleep(every)
        try:
            log.info("retention: %s", engine.compact())
        except Exception:  # a failed pass is logged and retried next time
            log.exception("retention pass failed")


async def _follow_rulesets(app: Starlette, engine: Engine) -> None:
    """Ruleset changes another process recorded (`shopguard rules rollout`) run here
    within a second: every process reads what runs from the same trail."""
    log = logging.getLogger("shopguard.rules")
    while True:
        await asyncio.sleep(1.0)
        try:
            await swap.follow(app.state, engine, app.state.rulesets)
        except Exception:  # a failed look is logged and retried next time
            log.exception("following the ruleset trail failed")


def create_app(
    engine: Engine,
    keys: Keys,
    max_body_bytes: int = 1_048_576,
    max_batch: int = 1000,
    max_inflight: int = 512,
    rulesets: Rulesets | None = None,
    operator_tenant: str = "default",
    compact_every: float = 0.0,
    users: Users | None = None,
    limits: Limits | None = None,
) -> Starlette:
    """The ASGI app around one engine (not thread-safe: handlers run on the event loop,
    one decision at a time; a decision takes tens of microseconds). ``limits``: body
    deadline, the unauthenticated budget, login lockout (header deadline and connection
    cap are the HTTP protocol's: api/server.py)."""
    stats = Metrics()
    limits = limits or Limits()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        upkeep = asyncio.create_task(_upkeep(engine, compact_every)) if compact_every else None
        follow = asyncio.create_task(_follow_rulesets(app, engine))
        yield
        follow.cancel()
        if upkeep is not None:
            upkeep.cancel()
        app.state.draining = True
        engine.close()  # checkpoint, so a restart replays little
        keys.close()
        if rulesets is not None:
            rulesets.close()
        if users is not None:
            users.close()
        if getattr(app.state, "webhooks", None) is not None:
            app.state.webhooks.close()

    routes: list[BaseRoute] = [Route(e.path, e.handler, methods=[e.method]) for e in ENDPOINTS]
    routes += console_routes()
    app = Starlette(
        routes=routes,
        exception_handlers=HANDLERS,
        middleware=[
            Middleware(
                Intake, max_bytes=max_body_bytes, timeout=limits.body_timeout, metrics=stats
            ),
            Middleware(
                Admission,
                limit=max_inflight,
                metrics=stats,
                keys=keys,
                public_limit=limits.max_inflight_public,
            ),
        ],
        lifespan=lifespan,
    )
    app.state.engine, app.state.keys, app.state.metrics = engine, keys, stats
    app.state.commits = GroupCommit(engine)
    app.state.max_body_bytes, app.state.max_batch = max_body_bytes, max_batch
    app.state.draining = False
    app.state.rulesets = rulesets or RulesetStore(":memory:")
    app.state.operator_tenant = operator_tenant
    app.state.users = users or UserStore(":memory:")
    app.state.openapi = document(ENDPOINTS)
    app.state.login_throttle = LoginThrottle(limits)
    return app
