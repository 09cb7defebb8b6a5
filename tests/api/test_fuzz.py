"""The API fuzzed from its own OpenAPI document (schemathesis): whatever the bodies,
paths and query strings, no request gets a 5xx, and every answer is what the document
says (status codes, content types, JSON shapes)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from tests.api.conftest import Api

# Built at import: schemathesis parametrizes one test per operation from the document.
_served = Api(Path(tempfile.mkdtemp(prefix="shopguard-fuzz-")), max_body_bytes=64_000)
_AUTH = {"Authorization": f"Bearer {_served.shop_admin}"}


async def _without_lifespan(scope: Any, receive: Any, send: Any) -> None:
    """The app, minus its lifespan: schemathesis starts and stops the app around every
    call, and the app's shutdown closes the engine."""
    if scope["type"] != "lifespan":
        return await _served.app(scope, receive, send)
    while (await receive())["type"] == "lifespan.startup":
        await send({"type": "lifespan.startup.complete"})
    await send({"type": "lifespan.shutdown.complete"})
    return None


schema = schemathesis.openapi.from_asgi("/v1/openapi.json", _without_lifespan)


@schema.parametrize()
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_gets_a_server_error(case: schemathesis.Case) -> None:
    case.call_and_validate(
        headers=_AUTH,
        checks=[
            checks.not_a_server_error,
            checks.status_code_conformance,
            checks.content_type_conformance,
            checks.response_schema_conformance,
        ],
    )
