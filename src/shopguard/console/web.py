"""What every console page shares: the templates and their filters, the signed-in
``page`` wrapper (session, CSRF on every POST, admin pages), and the journal's queries
and ring book the pages read through."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.templating import Jinja2Templates

from shopguard.console.drawing import short
from shopguard.console.queries import ConsoleQueries, queries_for
from shopguard.console.rings import RingShelf
from shopguard.console.search import SEARCH_KINDS
from shopguard.console.users import User, Users
from shopguard.engine import Engine
from shopguard.rings.book import book_path

COOKIE = "sg_console"
here = resources.files("shopguard.console")
templates = Jinja2Templates(directory=str(here.joinpath("templates")))


def _when(t: float) -> str:
    """An instant for people; one no calendar holds (an entry stored before TTLs were
    bounded) is shown as such, not a failed page."""
    try:
        return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError, TypeError):
        return "out of range"


templates.env.filters["when"] = _when
templates.env.filters["short"] = short
templates.env.globals["search_kinds"] = SEARCH_KINDS
Page = Callable[[Request, User], Awaitable[Response]]


def users_of(request: Request) -> Users:
    users: Users = request.app.state.users
    return users


def engine_of(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def queries_of(request: Request) -> ConsoleQueries:
    """The journal's console queries (made once per app)."""
    state = request.app.state
    found: ConsoleQueries | None = getattr(state, "console_queries", None)
    if found is None:
        found = state.console_queries = queries_for(engine_of(request).log)
    return found


def shelf_of(request: Request) -> RingShelf:
    """The ring book of the engine's data directory."""
    state = request.app.state
    found: RingShelf | None = getattr(state, "ring_shelf", None)
    if found is None:
        path = book_path(engine_of(request).settings.data_dir)
        found = state.ring_shelf = RingShelf(path)
    return found


def page(admin: bool = False) -> Callable[[Page], Callable[[Request], Awaitable[Response]]]:
    """Signed in (else to the login page); POSTs need the CSRF token; ``admin``: operator
    tenant admins only."""

    def wrap(fn: Page) -> Callable[[Request], Awaitable[Response]]:
        async def handler(request: Request) -> Response:
            user = users_of(request).session(request.cookies.get(COOKIE, ""))
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
