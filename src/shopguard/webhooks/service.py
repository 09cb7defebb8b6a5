"""What the API and the console both do with endpoints: the store of an app's engine,
and the checks an endpoint passes before it is stored (its URL, its address)."""

from __future__ import annotations

import time
from typing import Any

from shopguard.engine import Engine
from shopguard.features.spec import parse_duration
from shopguard.webhooks import signing, targets
from shopguard.webhooks.endpoints import Endpoint, EndpointChange, NewEndpoint, WithSecret
from shopguard.webhooks.protocol import Unavailable, WebhookStorage, open_webhooks

__all__ = ["Unavailable", "change", "check", "create", "rotate", "store_of"]


def store_of(state: Any) -> WebhookStorage:
    """The app's webhook store, beside the engine's journal (opened once): its SQLite
    file, or its PostgreSQL schema."""
    found: WebhookStorage | None = getattr(state, "webhooks", None)
    if found is None:
        engine: Engine = state.engine
        path = getattr(engine.log, "path", None)
        if engine.settings.decision_log != "postgres" and path is None:
            raise Unavailable("webhooks need a durable journal (settings: decision_log)")
        found = state.webhooks = open_webhooks(engine.settings, path)
    return found


async def check(engine: Engine, url: str) -> None:
    """TargetRefused unless the settings allow sending to ``url``."""
    s = engine.settings
    await targets.check_target(url, s.webhooks_allow_private, s.webhooks_allow_http)


async def create(
    store: WebhookStorage, engine: Engine, tenant: str, new: NewEndpoint
) -> WithSecret:
    await check(engine, new.url)
    secret = signing.new_secret()
    # list changes from here on are news to endpoints (history before is not)
    store.start_cursor("list", store.last_list_op())
    return WithSecret(store.create(tenant, new, secret, time.time()), secret)


async def change(
    store: WebhookStorage, engine: Engine, tenant: str, endpoint_id: str, change: EndpointChange
) -> Endpoint | None:
    if change.url is not None:
        await check(engine, change.url)
    return store.change(tenant, endpoint_id, change)


def rotate(
    store: WebhookStorage, engine: Engine, tenant: str, endpoint_id: str
) -> WithSecret | None:
    overlap = parse_duration(engine.settings.webhooks_rotation_overlap)
    secret = signing.new_secret()
    if not store.rotate(tenant, endpoint_id, secret, time.time() + overlap):
        return None
    endpoint = store.endpoint(tenant, endpoint_id)
    return None if endpoint is None else WithSecret(endpoint, secret)
