"""The investigation pages: the review queue (grouped by ring, campaign or rule, paged,
with bulk verdicts), rings and the ring page (drawing, deny or allow the whole ring), the
entity page (timeline and linked entities), a rule's hits, and the search box's answer.
All read one tenant's data through ``ConsoleQueries`` and the ring book; all masked."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from shopguard.console import forms, queue, search
from shopguard.console.drawing import ring_svg
from shopguard.console.users import User
from shopguard.console.web import engine_of, page, queries_of, render, shelf_of
from shopguard.desensitize.schema import ENTITY_KINDS
from shopguard.errors import ConfigError, InvalidEvent
from shopguard.events.catalog import is_id

LIST_NAMES = ("deny", "watch", "allow")
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")


def _before(request: Request) -> int | None:
    asked = request.query_params.get("before", "")
    return int(asked) if asked.isdecimal() and len(asked) <= 18 else None


# -- review queue ------------------------------------------------------------------------
@page()
async def review(request: Request, user: User) -> Response:
    engine, journal, shelf = engine_of(request), queries_of(request), shelf_of(request)
    q = request.query_params
    message = ""
    if request.method == "POST":
        form = await request.form()
        q = form  # type: ignore[assignment]  # the view the form was posted from
        try:
            if form.get("bulk"):
                forms.bulk_verdict(engine, user, form)
            else:
                forms.verdict(engine, user, form)
        except (ConfigError, InvalidEvent) as exc:
            message = f"refused: {exc}"
        else:
            view = {k: str(form.get(k, "")) for k in ("by", "group", "page") if form.get(k)}
            return RedirectResponse(f"/console/review?{urlencode(view)}", 303)
    by = str(q.get("by", "case"))
    by = by if by in queue.GROUPINGS else "case"
    group = str(q.get("group", ""))
    held = journal.held(user.tenant)
    ring_of = lambda account: getattr(shelf.ring_of(user.tenant, account), "ring_id", None)  # noqa: E731
    cases = queue.cases_of(held, ring_of)
    groups = queue.groups(cases, by) if by != "case" and not group else []
    shown = queue.in_group(cases, by, group) if group else cases if by == "case" else []
    paged = queue.page_of(len(groups) or len(shown), str(q.get("page", "1")))
    groups = groups[paged.first - 1 : paged.last]
    shown = shown[paged.first - 1 : paged.last]
    latest = journal.decisions(user.tenant, [c.latest_seq for c in shown])
    response = render(
        request,
        "review.html",
        user,
        by=by,
        group=group,
        groups=groups,
        cases=shown,
        latest=latest,
        paged=paged,
        total_cases=len(cases),
        truncated=held.truncated,
        message=message,
        groupings=queue.GROUPINGS,
    )
    response.status_code = 400 if message else 200
    return response


# -- rings -------------------------------------------------------------------------------
@page()
async def rings(request: Request, user: User) -> Response:
    shelf = shelf_of(request)
    mine = shelf.rings(user.tenant)
    paged = queue.page_of(len(mine), request.query_params.get("page", "1"), 50)
    book = shelf.book()
    return render(
        request, "rings.html", user, rings=mine[paged.first - 1 : paged.last], paged=paged,
        book=book,
    )  # fmt: skip


@page()
async def ring(request: Request, user: User) -> Response:
    engine, shelf = engine_of(request), shelf_of(request)
    found = shelf.ring(user.tenant, request.path_params["ring_id"])
    if found is None:
        return render(request, "missing.html", user, what="ring")
    members = set(found.members)
    open_events: dict[str, list[str]] = {}
    for e in queries_of(request).held(user.tenant).events:
        if e.account in members:
            open_events.setdefault(e.account, []).append(e.event_id)
    message, status = "", 200
    if request.method == "POST":
        try:
            message = forms.ring_verdict(engine, user, found, await request.form(), open_events)
            open_events = {}
        except (ConfigError, InvalidEvent) as exc:
            message, status = f"refused: {exc}", 400
    now = engine.clock()
    listed = {
        name: {m for m in found.members if engine.lists.get(name, "account", m, now, user.tenant)}
        for name in LIST_NAMES
    }
    response = render(
        request,
        "ring.html",
        user,
        ring=found,
        drawing=Markup(ring_svg(found, listed["deny"])),
        listed=listed,
        links=sorted(found.links, key=lambda link: -len(link.members))[:200],
        open_events=open_events,
        message=message,
    )
    response.status_code = status
    return response


# -- entities and rules ------------------------------------------------------------------
@page()
async def entity(request: Request, user: User) -> Response:
    kind, value = request.path_params["kind"], request.path_params["value"]
    # any kind the term index or a ring may name (link signals too), not only today's
    if not (kind in ENTITY_KINDS or _KIND.fullmatch(kind)) or not is_id(value, 256):
        return render(request, "missing.html", user, what="entity")
    engine, journal = engine_of(request), queries_of(request)
    name = f"{kind}:{value}"
    found = journal.timeline(user.tenant, name, _before(request))
    mask = next((d.display[kind] for d in found.decisions if kind in d.display), "")
    now = engine.clock()
    entries = [
        e
        for e in (engine.lists.get(n, kind, value, now, user.tenant) for n in LIST_NAMES)
        if e is not None
    ]
    ring_found = shelf_of(request).ring_of(user.tenant, value) if kind == "account" else None
    return render(
        request,
        "entity.html",
        user,
        kind=kind,
        value=value,
        mask=mask,
        timeline=found,
        linked=journal.linked(user.tenant, name)[:60],
        entries=entries,
        ring=ring_found,
        href=search.entity_href,
    )


@page()
async def rule(request: Request, user: User) -> Response:
    rule_id = request.path_params["rule_id"]
    if not is_id(rule_id, 256):
        return render(request, "missing.html", user, what="rule")
    engine = engine_of(request)
    found = queries_of(request).rule_hits(user.tenant, rule_id, _before(request))
    running = next((r for r in engine.rules.rules if r.id == rule_id), None)
    return render(request, "rule.html", user, rule_id=rule_id, hits=found, running=running)


# -- search ------------------------------------------------------------------------------
@page()
async def search_page(request: Request, user: User) -> Response:
    hits: list[search.Hit] = []
    asked = False
    if request.method == "POST":
        form = await request.form()
        text, kind = str(form.get("q", ""))[:256], str(form.get("kind", "auto"))
        kind = kind if kind in search.SEARCH_KINDS else "auto"
        hits = search.find(
            engine_of(request), queries_of(request), shelf_of(request), user.tenant, text, kind
        )
        del text  # a raw value goes no further than the lookup
        asked = True
        if len(hits) == 1:
            return RedirectResponse(hits[0].href, 303)
    return render(request, "search.html", user, hits=hits, asked=asked, kinds=search.SEARCH_KINDS)


def routes() -> list[BaseRoute]:
    return [
        Route("/console/review", review, methods=["GET", "POST"]),
        Route("/console/rings", rings),
        Route("/console/rings/{ring_id}", ring, methods=["GET", "POST"]),
        Route("/console/entities/{kind}/{value}", entity),
        Route("/console/rule/{rule_id}", rule),
        Route("/console/search", search_page, methods=["GET", "POST"]),
    ]
