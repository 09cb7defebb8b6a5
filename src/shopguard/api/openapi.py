"""The OpenAPI 3.1 document, built from the same endpoint table that builds the routes and
from the msgspec types the handlers decode and encode: it cannot drift from the code. The
words come from api/descriptions.yaml (properties) and api/params.py (parameters)."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from importlib import resources
from typing import Any, NamedTuple

import msgspec
import yaml

from shopguard.api.params import PATH, Param
from shopguard.api.problems import Problem
from shopguard.events.catalog import EVENT_CLASSES
from shopguard.version import __version__

DESCRIPTIONS = "src/shopguard/api/descriptions.yaml"  # as the tests name it to people


class Endpoint(NamedTuple):
    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    scope: str | None = None  # None: no key needed
    body: Any = None  # msgspec type of the request body
    answer: Any = None  # msgspec type of a 2xx body
    status: int = 200
    # query parameters, and path ones that mean something else here than in params.PATH;
    # a bare name is an undescribed string (the test on the document names it)
    params: tuple[Param | str, ...] = ()

    def param_specs(self) -> list[Param]:
        """Every parameter: the path's in order, then the query's."""
        given = [
            p if isinstance(p, Param) else Param(p, {"type": "string"}, "") for p in self.params
        ]
        own = {p.name: p for p in given if p.where == "path"}
        path = [
            own.get(n) or PATH.get(n) or Param(n, {"type": "string"}, "", "path")
            for n in _path_params(self.path)
        ]
        return path + [p for p in given if p.where == "query"]


def document(endpoints: list[Endpoint]) -> dict[str, Any]:
    types = [t for e in endpoints for t in (e.body, e.answer) if t is not None] + [Problem]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    _clean_descriptions(components)
    describe(components)
    refs = dict(zip(map(id, types), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op: dict[str, Any] = {"summary": e.summary, "operationId": e.handler.__name__}
        if e.scope is not None:
            op["security"] = [{"apiKey": []}]
            op["description"] = f"Needs an API key with the `{e.scope}` scope (or `admin`)."
        params = [_parameter(p) for p in e.param_specs()]
        if params:
            op["parameters"] = params
        if e.body is not None:
            content = {"application/json": {"schema": refs[id(e.body)]}}
            op["requestBody"] = {"required": True, "content": content}
        ok: dict[str, Any] = {"description": "OK"}
        if e.answer is not None:
            ok["content"] = {"application/json": {"schema": refs[id(e.answer)]}}
        problem = {"application/problem+json": {"schema": refs[id(Problem)]}}
        op["responses"] = {
            str(e.status): ok,
            "default": {"description": "problem", "content": problem},
        }
        paths.setdefault(e.path, {})[e.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {"title": "ShopGuard", "version": __version__},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    }


def _path_params(path: str) -> list[str]:
    return re.findall(r"\{(\w+)\}", path)


def _parameter(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "in": p.where, "schema": dict(p.schema)}
    if p.where == "path":
        out["required"] = True
    if p.description:
        out["description"] = p.description
    return out


class Table(NamedTuple):
    events: dict[str, str]  # a field of every event type: its words
    schemas: dict[str, dict[str, str]]  # schema -> property -> words


@functools.cache
def descriptions() -> Table:
    """The words of api/descriptions.yaml."""
    text = resources.files("shopguard.api").joinpath("descriptions.yaml").read_text()
    doc = yaml.safe_load(text) or {}
    schemas = {
        str(k): {str(p): str(t) for p, t in (v or {}).items()}
        for k, v in (doc.get("schemas") or {}).items()
    }
    return Table({str(k): str(v) for k, v in (doc.get("events") or {}).items()}, schemas)


def event_schemas() -> frozenset[str]:
    return frozenset(cls.__name__ for cls in EVENT_CLASSES)


def describe(components: dict[str, Any]) -> None:
    """Give every property the table's words, unless the code already gave it some."""
    table, events = descriptions(), event_schemas()
    for name, schema in components.items():
        own = table.schemas.get(name, {})
        shared = table.events if name in events else {}
        for prop, node in (schema.get("properties") or {}).items():
            text = own.get(prop) or shared.get(prop)
            if text and "description" not in node:
                node["description"] = " ".join(text.split())


def _clean_descriptions(node: Any) -> None:
    """Descriptions come from docstrings; msgspec releases differ in whether they strip the
    indentation, so strip it here and the document is the same on every release."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "description" and isinstance(value, str):
                node[key] = inspect.cleandoc(value)
            else:
                _clean_descriptions(value)
    elif isinstance(node, list):
        for item in node:
            _clean_descriptions(item)
