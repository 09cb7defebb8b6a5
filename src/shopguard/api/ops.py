"""Operations: liveness, readiness, Prometheus metrics, and admission control that sheds
load with 503 + Retry-After before queues make every request slow."""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from shopguard.api import ready
from shopguard.api.guard import presented
from shopguard.api.problems import problem

UNSHED = frozenset({"/healthz", "/readyz", "/metrics"})


class Metrics:
    """Aggregate only: event types and outcomes, never tenants or entities."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.decisions = Counter(
            "shopguard_decisions",
            "Decisions by event type and outcome.",
            ["type", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "shopguard_decide_seconds",
            "Engine time per decision.",
            buckets=(2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 5e-3, 2e-2),
            registry=self.registry,
        )
        self._children: dict[tuple[str, str], Any] = {}
        self.shed = Counter(
            "shopguard_shed_requests",
            "Requests refused with 503 under overload.",
            registry=self.registry,
        )
        self.timeouts = Counter(
            "shopguard_timeouts",
            "Requests closed with 408 because headers or body came too slowly.",
            ["phase"],
            registry=self.registry,
        )
        self.refused = Counter(
            "shopguard_refused_connections",
            "Connections closed at once: more open than max_connections.",
            registry=self.registry,
        )
        self.lockouts = Counter(
            "shopguard_login_lockouts",
            "Console sign-in tries refused with 429 while a name or address is locked out.",
            registry=self.registry,
        )

    def connection_refused(self, reason: str) -> None:
        """What the HTTP protocol reports (api/server.py): a header timeout or a full table."""
        if reason == "header-timeout":
            self.timeouts.labels("header").inc()
        else:
            self.refused.inc()

    def decided(self, event_type: str, outcome: str) -> Any:
        """The counter child of one (type, outcome): resolved once, not per request."""
        child = self._children.get((event_type, outcome))
        if child is None:
            child = self._children[(event_type, outcome)] = self.decisions.labels(
                event_type, outcome
            )
        return child


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    """Ready unless draining or a dependency is down: the journal takes no writes (disk
    full, locked; its write probe runs here when due), or the shared state, the
    registries or the change feed do not answer (api/ready.py). The body names each
    dependency's status; the first one down is the reason."""
    state = request.app.state
    engine = state.engine
    if state.draining:
        return JSONResponse({"status": "draining"}, 503)
    failure = engine.storage_problem()
    found: dict[str, str | None] = {"journal": None if failure is None else failure.kind}
    readiness = getattr(state, "readiness", None)
    if readiness is not None:
        found.update(await readiness.report())
    who = {} if state.worker is None else {"worker": state.worker, "pid": os.getpid()}
    dependencies = {"dependencies": ready.body(found)}
    if failure is not None:
        retry = ready.retry_after(failure.retry_after)
        body = {"status": "storage unavailable", "reason": failure.kind}
        return JSONResponse({**body, **who, **dependencies}, 503, headers=retry)
    # PostgreSQL unreachable but decisions spooled on local disk (state/spool): serving
    spooling = getattr(engine.log, "spooling", False)
    down = [
        (name, why)
        for name, why in found.items()
        if why is not None and not (spooling and name == "registries")
    ]
    if down:
        body = {"status": "not ready", "reason": f"{down[0][0]}: {down[0][1]}"}
        return JSONResponse({**body, **who, **dependencies}, 503, headers=ready.retry_after(1))
    status = "degraded: spooling" if spooling else "ready"
    body = {"status": status, "ruleset": engine.rules.version}
    return JSONResponse({**body, **who, **dependencies})


async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class Gate:
    """The two in-flight budgets, shared by ``Admission`` and the lean decision path
    (api/lean.py), so a request counts once whichever way it is served."""

    def __init__(self, limit: int, public_limit: int = 32) -> None:
        self.limit, self.public_limit = limit, public_limit
        self.inflight = 0
        self.public_inflight = 0

    def full(self, keyed: bool) -> bool:
        if keyed:
            return self.inflight >= self.limit
        return self.public_inflight >= self.public_limit


OVERLOADED = "too many requests in flight; retry shortly"


def overloaded(path: str) -> Response:
    return problem(503, "overloaded", OVERLOADED, path, None, {"Retry-After": "1"})


class Admission:
    """At most ``limit`` requests with a valid API key in flight, and apart from them at
    most ``public_limit`` without one (console pages and sign-in, missing or wrong keys);
    past either, 503 at once. A decision that waits behind thousands of others is worse
    than a fast refusal the caller can retry (or fail open / closed on, as the SDK's
    fallback decides), and no amount of unauthenticated traffic can take a decision's
    place. Sits inside ``Intake``, so a request counts only once its body has arrived.
    ``gate``: budgets shared with another path (else its own)."""

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        metrics: Metrics,
        keys: Any = None,
        public_limit: int = 32,
        gate: Gate | None = None,
    ) -> None:
        self.app, self.metrics, self.keys = app, metrics, keys
        self.gate = gate or Gate(limit, public_limit)

    def _keyed(self, scope: Scope) -> bool:
        if self.keys is None:
            return True
        authorization, x_api_key = "", None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"x-api-key":
                x_api_key = value.decode("latin-1")
        token = presented(authorization, x_api_key)
        return bool(token) and self.keys.verify(token) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNSHED:
            await self.app(scope, receive, send)
            return
        keyed = self._keyed(scope)
        gate = self.gate
        if gate.full(keyed):
            self.metrics.shed.inc()
            await overloaded(scope["path"])(scope, receive, send)
            return
        if keyed:
            gate.inflight += 1
        else:
            gate.public_inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            if keyed:
                gate.inflight -= 1
            else:
                gate.public_inflight -= 1
