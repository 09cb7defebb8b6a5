"""The OpenAPI document: served, committed under docs/, and in step with the routes."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.routing import Route
from starlette.testclient import TestClient

from shopguard.api.app import ENDPOINTS
from shopguard.api.openapi import document
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
