"""The console's pages. Every page is one tenant's (the signed-in user's); ruleset pages
are for admins of the operator tenant. Every POST carries the session's CSRF token."""

from __future__ import annotations

import difflib
import hmac
import math
import secrets
import time
from datetime import UTC, datetime

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from shopguard.console import backtests, charts, forms, investigation, queries, webhooks
from shopguard.console.users import User
from shopguard.console.web import COOKIE, engine_of, here, page, queries_of, render, users_of
from shopguard.engine import Engine
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.rules import swap
from shopguard.rules.versions import Rollout, Rulesets
from shopguard.state.search import DecisionQuery


# -- login -----------------------------------------------------------------------------
async def login(request: Request) -> Response:
    if request.method == "GET":
        token = secrets.token_urlsafe(24)
        response = render(request, "login.html", None, csrf=token, error="")
        response.set_cookie("sg_login", token, httponly=True, samesite="strict", path="/console")
        return response
    form = await request.form()
    if not hmac.compare_digest(str(form.get("csrf", "")), request.cookies.get("sg_login", "-")):
        return Response("CSRF token missing or wrong", 403)
    name = str(form.get("name", ""))
    throttle = request.app.state.login_throttle
    wait = throttle.attempt(name, request.client.host if request.client else "")
    found = None if wait else await users_of(request).sign_in(name, str(form.get("password", "")))
    if found is None:
        token, retry = secrets.token_urlsafe(24), str(math.ceil(wait))
        error = (
            f"too many failed tries: try again in {retry} s" if wait else "wrong name or password"
        )
        response = render(request, "login.html", None, csrf=token, error=error)
        response.status_code = 429 if wait else 401
        if wait:  # locked out: no hashing, and the wait is not lengthened
            request.app.state.metrics.lockouts.inc()
            response.headers["Retry-After"] = retry
        response.set_cookie("sg_login", token, httponly=True, samesite="strict", path="/console")
        return response
    throttle.succeeded(name)
    response = RedirectResponse("/console", 303)
    response.set_cookie(
        COOKIE,
        found[1],
        max_age=int(users_of(request).session_seconds),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )
    return response


@page()
async def logout(request: Request, user: User) -> Response:
    users_of(request).logout(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


# -- overview, live stream, decision detail ---------------------------------------------
@page()
async def overview(request: Request, user: User) -> Response:
    journal = queries_of(request)
    newest = journal.newest_time(user.tenant)
    since = (newest or time.time()) - 3600
    minutes = journal.per_minute(user.tenant, since)
    columns = [
        (datetime.fromtimestamp(m * 60, UTC).strftime("%H:%M"), minutes.get(m, [0, 0, 0, 0]))
        for m in range(int(since // 60) + 1, int(since // 60) + 61)
    ]
    totals = [sum(c[1][i] for c in columns) for i in range(4)]
    return render(
        request,
        "overview.html",
        user,
        chart=Markup(charts.stacked(columns)),
        totals=dict(zip(queries.OUTCOMES, totals, strict=True)),
        rules=journal.top_terms(user.tenant, "rule:", since),
        campaigns=journal.top_terms(user.tenant, "campaign:", since, 1),
        colours=charts.COLOURS,
    )


@page()
async def live(request: Request, user: User) -> Response:
    return render(request, "live.html", user)


@page()
async def live_json(request: Request, user: User) -> Response:
    found = engine_of(request).search(DecisionQuery(tenant=user.tenant, limit=30))
    rows = [
        {
            "event_id": d.event_id,
            "time": d.time,
            "type": d.type,
            "outcome": d.outcome,
            "codes": [r.code for r in d.reasons],
        }
        for d in found.decisions
    ]
    return JSONResponse(rows)


@page()
async def decision(request: Request, user: User) -> Response:
    found = engine_of(request).find(user.tenant, request.path_params["event_id"])
    if found is None:
        return render(request, "missing.html", user, what="decision")
    return render(request, "decision.html", user, d=found)


# -- rules -------------------------------------------------------------------------------
@page(admin=True)
async def rules(request: Request, user: User) -> Response:
    store: Rulesets = request.app.state.rulesets
    engine = engine_of(request)
    message, status = "", 200
    if request.method == "POST":
        form = await request.form()
        message = await _rules_action(request, engine, store, user, form)
        status = 400 if message.startswith("refused") else 200
    shadow = queries_of(request).shadow_hits(1_000_000)
    q = request.query_params
    diff = ""
    if q.get("a") and q.get("b"):
        diff = _diff(engine, store, q["a"], q["b"])
    response = render(
        request,
        "rules.html",
        user,
        standing=store.standing(),
        versions=store.versions(),
        changes=store.changes()[-20:],
        running=engine.rules.version,
        challenger=engine.challenger.version if engine.challenger else "",
        rollout=engine.rollout,
        shadow=shadow,
        diff=diff,
        message=message,
    )
    response.status_code = status
    return response


async def _rules_action(
    request: Request, engine: Engine, store: Rulesets, user: User, form: FormData
) -> str:
    """Compiles off the event loop (rules/swap.py); a refusal names the rule."""
    action, actor = str(form.get("action", "")), f"console:{user.name}"
    try:
        if action == "upload":
            text = str(form.get("text", ""))
            await swap.checked(engine, text)
            version = store.upload(text, actor, str(form.get("note", "")))
            return f"uploaded version {version.number}"
        number = str(form.get("number", ""))
        number_or_none = int(number) if number.isdecimal() and len(number) <= 18 else None
        terms = _rollout_terms(form) if action == "rollout" else None
        await swap.change(request.app.state, engine, store, action, actor, number_or_none, terms)
    except ConfigError as exc:
        return f"refused: {exc}"
    return f"{action}: now running {engine.rules.version}"


def _rollout_terms(form: FormData) -> Rollout:
    percent, by = str(form.get("percent", "")), str(form.get("by", "account"))
    try:
        return Rollout(float(percent), by).checked()
    except ValueError:
        raise ConfigError(f"rollout percent {percent!r}: a number from 0 to 100") from None


def _diff(engine: Engine, store: Rulesets, a: str, b: str) -> str:
    def text(ref: str) -> str:
        version = store.version(int(ref)) if ref.isdecimal() and len(ref) <= 18 else None
        return version.text if version else engine.pack.rules_text

    lines = difflib.unified_diff(
        text(a).splitlines(), text(b).splitlines(), f"version {a}", f"version {b}", lineterm=""
    )
    return "\n".join(lines)


# -- lists and merchants -----------------------------------------------------------------
@page()
async def lists(request: Request, user: User) -> Response:
    engine = engine_of(request)
    message = ""
    if request.method == "POST":
        form = await request.form()
        try:
            forms.list_change(engine, user, form)
        except (ConfigError, InvalidEvent) as exc:
            message = f"refused: {exc}"
    entries = sorted(
        engine.lists.entries(engine.clock(), tenant=user.tenant), key=lambda e: -e.added
    )
    response = render(request, "lists.html", user, entries=entries[:500], message=message)
    response.status_code = 400 if message else 200
    return response


@page()
async def merchants(request: Request, user: User) -> Response:
    health = engine_of(request).merchant_health(user.tenant)
    rates = [(h.merchant, round((h.loss_rate or 0) * 100, 3)) for h in health]
    chart = Markup(charts.bars(sorted(rates, key=lambda r: -r[1])[:20], " %"))
    return render(request, "merchants.html", user, health=health, chart=chart)


def console_routes() -> list[BaseRoute]:
    static = StaticFiles(directory=str(here.joinpath("static")))
    return [
        Route("/console/login", login, methods=["GET", "POST"]),
        Route("/console/logout", logout, methods=["POST"]),
        Route("/console", overview),
        Route("/console/live", live),
        Route("/console/live.json", live_json),
        Route("/console/decisions/{event_id}", decision),
        *investigation.routes(),
        Route("/console/rules", rules, methods=["GET", "POST"]),
        *backtests.routes(),
        Route("/console/lists", lists, methods=["GET", "POST"]),
        Route("/console/merchants", merchants),
        *webhooks.routes(),
        Mount("/console/static", static, name="console-static"),
    ]
