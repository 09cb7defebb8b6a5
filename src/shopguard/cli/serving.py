"""The server `shopguard serve` (and `shopguard demo`) runs: one engine's uvicorn server
with the slow-client protections, what it follows and checks (api/propagate.py,
api/ready.py), and one worker of `serve --workers` (api/workers.py starts it by name)."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING, Any

import msgspec

from shopguard.cli.app import err

if TYPE_CHECKING:
    from shopguard.settings import Settings


def serve_worker(
    settings: Settings, host: str, port: int, index: int, sock: Any, ready: Any
) -> None:
    """One worker of `serve --workers` (in its own process): its journal writer name,
    its engine, its server on the shared port; ``ready`` once it listens. Worker 0 alone
    runs retention and webhook delivery."""
    from shopguard.api.workers import writer_name
    from shopguard.registries import open_keys

    changes: dict[str, Any] = {"writer": writer_name(settings, index)}
    if index:
        changes |= {"compact_every": "0s", "webhooks_deliver": False}
    settings = msgspec.structs.replace(settings, **changes)
    keys = open_keys(settings)
    server = http_server(settings, keys, host, port, worker=index, ready=ready)
    server.run(sockets=[sock])


def http_server(
    settings: Settings,
    keys: Any,
    host: str,
    port: int,
    hint: str = "sign in as a user made with `shopguard users create`",
    worker: int | None = None,
    ready: Any = None,
) -> Any:
    """The uvicorn server of the whole service (API, console, metrics) on one engine,
    loaded from the data directory's journal; it says where it serves on stderr once it
    listens (a worker of several tells ``ready`` instead: the supervisor says it once)."""
    import uvicorn

    from shopguard.api import create_app
    from shopguard.api.limits import Limits
    from shopguard.api.server import fit_open_files, protocol_class
    from shopguard.api.workers import WORKER_HEADER
    from shopguard.engine import Engine
    from shopguard.features.spec import parse_duration
    from shopguard.registries import open_rulesets, open_users
    from shopguard.rules.swap import bring
    from shopguard.version import build

    limits = Limits.from_settings(settings)
    limits = msgspec.structs.replace(limits, max_connections=fit_open_files(limits.max_connections))
    loading = err.status("loading the engine (replaying the journal)")
    with loading if worker is None else contextlib.nullcontext():
        engine = Engine.from_config(settings=settings)
        rulesets = open_rulesets(settings)
        bring(engine, rulesets)
    users = open_users(settings)
    follower, readiness = dependencies(settings, keys, users)
    application = create_app(
        engine,
        keys,
        settings.max_body_bytes,
        settings.max_batch,
        settings.max_inflight,
        rulesets=rulesets,
        operator_tenant=settings.default_tenant,
        compact_every=parse_duration(settings.compact_every),
        users=users,
        limits=limits,
        follower=follower,
        readiness=readiness,
        worker=worker,
    )
    if settings.webhooks_deliver:
        from shopguard.webhooks.serving import deliver_in

        deliver_in(application, settings)
    where = base_url(host, port)
    said = [
        f"serving on {where} (ruleset {engine.rules.version}, {build()} build)",
        f"console: {where}/console ({hint})",
    ]
    http = protocol_class(limits, application.state.metrics.connection_refused)
    named = [] if worker is None else [(WORKER_HEADER, str(worker))]
    config = uvicorn.Config(
        application,
        host=host,
        port=port,
        http=http,
        log_level="warning",
        access_log=False,
        headers=named,
    )

    class Announced(uvicorn.Server):
        """Says where it serves once it listens there: a client that reads the line can
        connect at once."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started and ready is not None:
                ready()
            elif self.started:
                for line in said:
                    err.print(line, highlight=False, soft_wrap=True)

    return Announced(config)


def dependencies(settings: Settings, keys: Any, users: Any) -> tuple[Any, Any]:
    """What a server follows (api/propagate.py) and checks for /readyz (api/ready.py):
    the shared state and PostgreSQL when configured. With registries in PostgreSQL, their
    change feed wakes the follower and marks the key and user caches stale at once."""
    from shopguard.api import ready
    from shopguard.api.propagate import Follower
    from shopguard.features.spec import parse_duration
    from shopguard.registries import open_feed

    follower = Follower(parse_duration(settings.propagate_every))
    feed = open_feed(settings)
    if feed is not None:
        for store, cache in (("keys", keys), ("users", users)):
            if hasattr(cache, "stale"):
                feed.subscribe(_stale_on_change(cache), [store])
        follower.hear(feed)
    checks = [ready.Check("changes", follower.problem)]
    if settings.state_store == "redis":
        timeout = parse_duration(settings.redis_timeout)
        probe = ready.redis_probe(settings.redis_url, settings.redis_cluster, timeout)
        checks.append(ready.Check("state", probe, threaded=True))
    if settings.decision_log == "postgres":
        timeout = parse_duration(settings.postgres_timeout)
        probe = ready.postgres_probe(settings.postgres_dsn, timeout)
        checks.append(ready.Check("registries", probe, threaded=True))
    return follower, ready.Readiness(checks)


def _stale_on_change(cache: Any) -> Any:
    def heard(change: Any) -> None:
        cache.stale()

    return heard


def base_url(host: str, port: int) -> str:
    """The address a browser on this machine opens: a wildcard listen address is
    reached at the loopback one."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"
