"""The HTTP surface: `/v1` decision, label, list and merchant-health endpoints on
Starlette, API keys with tenant and scopes, RFC 9457 problems, metrics and probes.

Handlers decode bodies with msgspec and call the one in-process ``Engine``; nothing here
decides anything. ``create_app(engine, keys)`` builds the ASGI app; ``shopguard serve``
runs it on uvicorn.
"""

from shopguard.api.app import create_app
from shopguard.api.keys import ApiKey, KeyStore

__all__ = ["ApiKey", "KeyStore", "create_app"]
