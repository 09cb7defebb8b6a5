"""What a webhook store answers (``WebhookStorage``), whichever keeps it: the SQLite
journal file (webhooks/store.py) or the PostgreSQL journal's schema, shared by every
worker (webhooks/postgres.py), and the one factory that picks it (``open_webhooks``).

Fan-out is the store's: ``fan_out_batch`` takes the next batch of one source (the alerts
outbox or the list changes), asks ``route`` which deliveries it makes, and stages them
with the source's progress in one transaction, so several delivery workers never fan a
row out twice (the PostgreSQL store claims outbox rows with SKIP LOCKED and moves the
list cursor under a row lock). ``claim`` leases due deliveries (PostgreSQL: whole
endpoints, so one worker sends an endpoint's messages, in order); ``finish`` hands the
endpoints back after the attempts.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal, Protocol

from shopguard.settings import Settings
from shopguard.webhooks.endpoints import Endpoint, EndpointChange, NewEndpoint
from shopguard.webhooks.log import Attempt, Delivery, DeliveryStatus
from shopguard.webhooks.store import Outgoing

Source = Literal["outbox", "list"]
Staged = tuple[str, str, str, str, bytes]  # endpoint, tenant, source, type, body
# (source, its rows as (id, payload), now) -> the deliveries they make
Route = Callable[[Source, list[tuple[int, bytes]], float], list[Staged]]


class WebhookStorage(Protocol):
    # -- endpoints
    def create(self, tenant: str, new: NewEndpoint, secret: str, now: float) -> Endpoint: ...
    def endpoint(self, tenant: str, endpoint_id: str) -> Endpoint | None: ...
    def endpoints(self, tenant: str | None = None) -> list[Endpoint]: ...
    def change(self, tenant: str, endpoint_id: str, change: EndpointChange) -> Endpoint | None: ...
    def delete(self, tenant: str, endpoint_id: str) -> bool: ...
    def rotate(self, tenant: str, endpoint_id: str, secret: str, until: float) -> bool: ...
    def disable(self, endpoint_id: str, reason: str) -> None: ...

    # -- fan-out
    def cursor(self, name: str) -> int | None: ...
    def start_cursor(self, name: str, position: int) -> None: ...
    def last_list_op(self) -> int: ...
    def fan_out_batch(self, source: Source, route: Route, limit: int, now: float) -> int:
        """Fan out the next batch of ``source``; how many of its rows it took (0: none
        left)."""
        ...

    # -- attempts
    def claim(self, now: float, limit: int, lease: float) -> list[Outgoing]: ...
    def record(
        self, delivery: Outgoing, attempt: Attempt, status: DeliveryStatus, due: float | None
    ) -> None: ...
    def release(self, ids: list[int], like: int) -> None: ...
    def finish(self, endpoints: list[str]) -> None: ...

    # -- the delivery log
    def deliveries(
        self,
        tenant: str,
        endpoint: str | None = None,
        status: str | None = None,
        limit: int = 100,
        before: int | None = None,
    ) -> list[Delivery]: ...
    def delivery(self, tenant: str, delivery_id: int) -> Delivery | None: ...
    def redeliver(self, tenant: str, delivery_id: int, now: float) -> Delivery | None: ...
    def counts(self) -> dict[str, int]: ...
    def prune(self, before: float) -> int: ...
    def close(self) -> None: ...


class Unavailable(RuntimeError):
    """Webhooks need a durable journal (SQLite or PostgreSQL)."""


def open_webhooks(settings: Settings, journal_path: Path | None = None) -> WebhookStorage:
    """The deployment's webhook store: in the PostgreSQL journal's schema when
    ``decision_log: postgres`` (every worker shares it), else in the SQLite journal file
    (``journal_path``, default the data directory's)."""
    if settings.decision_log == "postgres":
        from shopguard.features.spec import parse_duration
        from shopguard.webhooks.postgres import PgWebhookStore

        timeout = parse_duration(settings.postgres_timeout)
        return PgWebhookStore(settings.postgres_dsn, settings.postgres_schema, timeout)
    if settings.decision_log != "sqlite":
        raise Unavailable("webhooks need a durable journal (settings: decision_log)")
    from shopguard.webhooks.store import WebhookStore

    return WebhookStore(journal_path or settings.journal_path)
