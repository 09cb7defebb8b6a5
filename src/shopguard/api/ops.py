"""Operations: liveness, readiness, Prometheus metrics, and admission control that sheds
load with 503 + Retry-After before queues make every request slow."""

from __future__ import annotations

import math
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
    """Ready unless draining or the journal takes no writes (disk full, locked): then
    not ready until a write probe succeeds again, which this check itself runs when due."""
    engine = request.app.state.engine
    if request.app.state.draining:
        return JSONResponse({"status": "draining"}, 503)
    failure = engine.storage_problem()
    if failure is not None:
        retry = {"Retry-After": str(max(1, math.ceil(failure.retry_after)))}
        body = {"status": "storage unavailable", "reason": failure.kind}
        return JSONResponse(body, 503, headers=retry)
    return JSONResponse({"status": "ready", "ruleset": engine.rules.version})


async def metrics(request: Request) -> Response:
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)


class Admission:
    """At most ``limit`` requests in flight; the rest get 503 at once. A decision that
    waits behind thousands of others is worse than a fast refusal the caller can retry
    (or fail open / closed on, as the SDK's fallback decides)."""

    def __init__(self, app: ASGIApp, limit: int, metrics: Metrics) -> None:
        self.app, self.limit, self.metrics = app, limit, metrics
        self.inflight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNSHED:
            await self.app(scope, receive, send)
            return
        if self.inflight >= self.limit:
            self.metrics.shed.inc()
            headers: dict[str, Any] = {"Retry-After": "1"}
            detail = "too many requests in flight; retry shortly"
            await problem(503, "overloaded", detail, scope["path"], None, headers)(
                scope, receive, send
            )
            return
        self.inflight += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.inflight -= 1
