"""The OpenAPI document: served, committed under docs/, and in step with the routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec
from starlette.routing import Route
from starlette.testclient import TestClient

from shopguard.api.app import ENDPOINTS
from shopguard.api.openapi import DESCRIPTIONS, descriptions, document, event_schemas
from shopguard.events.catalog import BaseEvent
from tests.api.conftest import Api

DOC = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def test_committed_document_is_current() -> None:
    # Compared as data, not text: key order and spacing are json's choices, not ours.
    fresh = json.loads(json.dumps(document(ENDPOINTS)))
    assert json.loads(DOC.read_text()) == fresh, (
        "docs/openapi.json is stale: regenerate it with "
        "python -c 'import json; from shopguard.api.app import ENDPOINTS; "
        "from shopguard.api.openapi import document; "
        "print(json.dumps(document(ENDPOINTS), indent=2, sort_keys=True))' > docs/openapi.json"
    )


def test_every_route_is_documented_and_served(api: tuple[Api, TestClient]) -> None:
    served, client = api
    doc = client.get("/v1/openapi.json").json()
    for route in served.app.routes:
        if not isinstance(route, Route) or route.path.startswith("/console"):
            continue  # the console's pages are HTML, not API
        for method in route.methods or ():
            if method != "HEAD":
                assert method.lower() in doc["paths"][route.path], (method, route.path)
    schemas = doc["components"]["schemas"]
    assert {"Decision", "Label", "MerchantHealth", "Problem", "Payment"} <= set(schemas)


def _doc() -> dict[str, Any]:
    return document(ENDPOINTS)


def test_every_property_has_a_description() -> None:
    base = {f.name for f in msgspec.structs.fields(BaseEvent)} | {"type"}
    events = event_schemas()
    missing: dict[str, list[str]] = {}
    for name, schema in sorted(_doc()["components"]["schemas"].items()):
        for prop, node in (schema.get("properties") or {}).items():
            if not node.get("description"):
                # a field of every event type is written once, under `events:`
                shared = name in events and prop in base
                group = missing.setdefault("events" if shared else f"schemas.{name}", [])
                if prop not in group:
                    group.append(prop)
    lines = [
        f"  {group}:\n" + "".join(f"    {p}: ...\n" for p in props)
        for group, props in missing.items()
    ]
    assert not missing, (
        f"properties without a description: add them to {DESCRIPTIONS}:\n" + "".join(lines)
    )


def test_description_table_names_only_what_exists() -> None:
    schemas = _doc()["components"]["schemas"]
    table = descriptions()
    stale = [
        f"schemas.{name}.{prop}"
        for name, props in table.schemas.items()
        for prop in props
        if prop not in schemas.get(name, {}).get("properties", {})
    ]
    base = {f.name for f in msgspec.structs.fields(BaseEvent)} | {"type"}
    stale += [f"events.{field}" for field in table.events if field not in base]
    assert not stale, f"entries in {DESCRIPTIONS} for nothing in the document: {stale}"


def _parameters() -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", param)
        for path, ops in _doc()["paths"].items()
        for method, op in ops.items()
        for param in op.get("parameters", [])
    ]


def test_every_parameter_is_described_and_typed() -> None:
    bare = [f"{where} {p['name']}" for where, p in _parameters() if not p.get("description")]
    assert not bare, (
        "parameters without a description: declare each as a Param in "
        f"src/shopguard/api/params.py and use it in the endpoint's params: {bare}"
    )
    assert all("type" in p["schema"] for _, p in _parameters())


# What each handler parses its parameter as (api/admin.py, api/endpoints.py): the
# document must say so, or clients and the fuzz test would send any string.
PARSED = {
    "since": ("string", "date-time"),
    "until": ("string", "date-time"),
    "known_by": ("string", "date-time"),
    "limit": ("integer", None),
    "before": ("integer", None),
    "number": ("integer", None),
    "raw": ("boolean", None),
}
ENUMS = {"outcome", "list"}


def test_parameters_a_handler_parses_are_typed_as_parsed() -> None:
    seen = set()
    for where, p in _parameters():
        schema, name = p["schema"], p["name"]
        seen.add(name)
        if name in PARSED:
            assert (schema["type"], schema.get("format")) == PARSED[name], (where, name)
        if name in ENUMS:
            assert schema.get("enum"), (where, name)
    assert set(PARSED) | ENUMS <= seen
    limit = next(p["schema"] for _, p in _parameters() if p["name"] == "limit")
    assert (limit["minimum"], limit["maximum"]) == (1, 1000)  # admin.search_decisions' bounds


def test_a_query_value_of_another_type_is_refused_naming_it(api: tuple[Api, TestClient]) -> None:
    """What the document types, the handler checks: 400 naming the parameter, never 500
    (the fuzz test sends only values the document allows)."""
    served, client = api
    wrong = {"integer": "twelve", "date-time": "yesterday"}
    fill = {"{merchant}": "m1", "{event_id}": "e1", "{number}": "1"}
    checked = []
    for e in ENDPOINTS:
        path = e.path
        for hole, value in fill.items():
            path = path.replace(hole, value)
        for p in e.param_specs():
            kind = p.schema.get("format") or p.schema["type"]
            if e.method != "GET" or p.where != "query" or kind not in wrong:
                continue
            answer = client.get(
                path, params={p.name: wrong[kind]}, headers=served.auth(served.shop_admin)
            )
            assert answer.status_code == 400, (e.path, p.name, answer.text)
            assert answer.json()["field"] == f"$.query.{p.name}"
            checked.append(p.name)
    assert {"since", "until", "known_by", "limit", "before"} <= set(checked)
    for limit in ("0", "1001"):  # the bounds the document gives
        answer = client.get(
            "/v1/decisions", params={"limit": limit}, headers=served.auth(served.shop_admin)
        )
        assert answer.status_code == 400
