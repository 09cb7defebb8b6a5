"""The OpenAPI 3.1 document, built from the same endpoint table that builds the routes and
from the msgspec types the handlers decode and encode: it cannot drift from the code."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from typing import Any, NamedTuple

import msgspec

from shopguard.api.problems import Problem
from shopguard.version import __version__


class Endpoint(NamedTuple):
    method: str
    path: str
    handler: Callable[..., Any]
    summary: str
    scope: str | None = None  # None: no key needed
    body: Any = None  # msgspec type of the request body
    answer: Any = None  # msgspec type of a 2xx body
    status: int = 200
    params: tuple[str, ...] = ()  # query parameters


def document(endpoints: list[Endpoint]) -> dict[str, Any]:
    types = [t for e in endpoints for t in (e.body, e.answer) if t is not None] + [Problem]
    schemas, components = msgspec.json.schema_components(
        types, ref_template="#/components/schemas/{name}"
    )
    _clean_descriptions(components)
    refs = dict(zip(map(id, types), schemas, strict=True))
    paths: dict[str, dict[str, Any]] = {}
    for e in endpoints:
        op: dict[str, Any] = {"summary": e.summary, "operationId": e.handler.__name__}
        if e.scope is not None:
            op["security"] = [{"apiKey": []}]
            op["description"] = f"Needs an API key with the `{e.scope}` scope (or `admin`)."
        params = [
            {"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
            for n in _path_params(e.path)
        ]
        params += [{"name": n, "in": "query", "schema": {"type": "string"}} for n in e.params]
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
