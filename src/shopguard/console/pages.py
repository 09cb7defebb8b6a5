"""The console's pages. Every page is one tenant's (the signed-in user's); ruleset pages
are for admins of the operator tenant. Every POST carries the session's CSRF token."""

from __future__ import annotations

import difflib
import hmac
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from markupsafe import Markup
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from shopguard.console import charts, forms, queries
from shopguard.console.users import User, UserStore
from shopguard.engine import Engine
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.rules import swap
from shopguard.rules.versions import RulesetStore
from shopguard.state.search import DecisionQuery

COOKIE = "sg_console"
_here = resources.files("shopguard.console")
templates = Jinja2Templates(directory=str(_here.joinpath("templates")))


def _when(t: float) -> str:
    """An instant for people; one no calendar holds (an entry stored before TTLs were
    bounded) is shown as such, not a failed page."""
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError, TypeError):
        return "out of range"


templates.env.filters["when"] = _when
Page = Callable[[Request, User], Awaitable[Response]]


def _users(request: Request) -> UserStore:
    users: UserStore = request.app.state.users
    return users


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _db(request: Request) -> Any:
    reader = getattr(_engine(request).log, "reader", None)
    return reader() if reader is not None else None


def page(admin: bool = False) -> Callable[[Page], Callable[[Request], Awaitable[Response]]]:
    """Signed in (else to the login page); POSTs need the CSRF token; ``admin``: operator
    tenant admins only."""

    def wrap(fn: Page) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            user = _users(request).session(request.cookies.get(COOKIE, ""))
            if user is None:
                return RedirectResponse("/console/login", 303)
            if request.method == "POST":
                form = await request.form()
                if not hmac.compare_digest(str(form.get("csrf", "")), user.csrf):
                    return Response("CSRF token missing or wrong", 403)
            if admin and (user.role != "admin" or user.tenant != request.app.state.operator_tenant):
                return Response("only the operator's admins manage rulesets", 403)
            return await fn(request, user)

        handler.__name__ = fn.__name__
        return handler

    return wrap


def render(request: Request, name: str, user: User | None, **context: Any) -> Response:
    return templates.TemplateResponse(request, name, {"user": user, **context})


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
    found = None if wait else await _users(request).sign_in(name, str(form.get("password", "")))
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
        max_age=int(_users(request).session_seconds),
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/console",
    )
    return response


@page()
async def logout(request: Request, user: User) -> Response:
    _users(request).logout(request.cookies.get(COOKIE, ""))
    response = RedirectResponse("/console/login", 303)
    response.delete_cookie(COOKIE, path="/console")
    return response


# -- overview, live stream, decision detail ---------------------------------------------
@page()
async def overview(request: Request, user: User) -> Response:
    db = _db(request)
    newest = queries.newest_time(db, user.tenant) if db else None
    since = (newest or time.time()) - 3600
    minutes = queries.per_minute(db, user.tenant, since) if db else {}
    columns = [
        (datetime.fromtimestamp(m * 60, UTC).strftime("%H:%M"), minutes.get(m, [0, 0, 0, 0]))
        for m in range(int(since // 60) + 1, int(since // 60) + 61)
    ]
    totals = [sum(c[1][i] for c in columns) for i in range(4)]
    first = queries.first_seq(db, user.tenant, since) if db else 0
    return render(
        request,
        "overview.html",
        user,
        chart=Markup(charts.stacked(columns)),
        totals=dict(zip(queries.OUTCOMES, totals, strict=True)),
        rules=queries.top_terms(db, user.tenant, "rule:", first) if db else [],
        campaigns=queries.top_terms(db, user.tenant, "campaign:", first, 1) if db else [],
        colours=charts.COLOURS,
    )


@page()
async def live(request: Request, user: User) -> Response:
    return render(request, "live.html", user)


@page()
async def live_json(request: Request, user: User) -> Response:
    found = _engine(request).search(DecisionQuery(tenant=user.tenant, limit=30))
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
    found = _engine(request).find(user.tenant, request.path_params["event_id"])
    if found is None:
        return render(request, "missing.html", user, what="decision")
    return render(request, "decision.html", user, d=found)


# -- review queue ------------------------------------------------------------------------
@page()
async def review(request: Request, user: User) -> Response:
    engine = _engine(request)
    message = ""
    if request.method == "POST":
        form = await request.form()
        try:
            forms.verdict(engine, user, form)
        except (ConfigError, InvalidEvent) as exc:
            message = f"refused: {exc}"
        else:
            return RedirectResponse("/console/review", 303)
    db = _db(request)
    cases = queries.review_queue(db, user.tenant) if db else []
    response = render(request, "review.html", user, cases=cases, message=message)
    response.status_code = 400 if message else 200
    return response


# -- rules -------------------------------------------------------------------------------
@page(admin=True)
async def rules(request: Request, user: User) -> Response:
    store: RulesetStore = request.app.state.rulesets
    engine = _engine(request)
    message, status = "", 200
    if request.method == "POST":
        form = await request.form()
        message = await _rules_action(request, engine, store, user, form)
        status = 400 if message.startswith("refused") else 200
    db = _db(request)
    newest = _engine(request).log.last_seq()
    shadow = queries.top_terms(db, None, "shadow:", newest - 1_000_000) if db else []
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
        shadow=shadow,
        diff=diff,
        message=message,
    )
    response.status_code = status
    return response


async def _rules_action(
    request: Request, engine: Engine, store: RulesetStore, user: User, form: FormData
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
        await swap.change(request.app.state, engine, store, action, actor, number_or_none)
    except ConfigError as exc:
        return f"refused: {exc}"
    return f"{action}: now running {engine.rules.version}"


def _diff(engine: Engine, store: RulesetStore, a: str, b: str) -> str:
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
    engine = _engine(request)
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
    health = _engine(request).merchant_health(user.tenant)
    rates = [(h.merchant, round((h.loss_rate or 0) * 100, 3)) for h in health]
    chart = Markup(charts.bars(sorted(rates, key=lambda r: -r[1])[:20], " %"))
    return render(request, "merchants.html", user, health=health, chart=chart)


def console_routes() -> list[BaseRoute]:
    static = StaticFiles(directory=str(_here.joinpath("static")))
    return [
        Route("/console/login", login, methods=["GET", "POST"]),
        Route("/console/logout", logout, methods=["POST"]),
        Route("/console", overview),
        Route("/console/live", live),
        Route("/console/live.json", live_json),
        Route("/console/decisions/{event_id}", decision),
        Route("/console/review", review, methods=["GET", "POST"]),
        Route("/console/rules", rules, methods=["GET", "POST"]),
        Route("/console/lists", lists, methods=["GET", "POST"]),
        Route("/console/merchants", merchants),
        Mount("/console/static", static, name="console-static"),
    ]
