"""`shopguard serve` and `shopguard keys`: the HTTP API on uvicorn, and its API keys."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, app, err, guard, settings_for

if TYPE_CHECKING:
    from shopguard.settings import Settings

keys_app = typer.Typer(help="API keys: one tenant each, with scopes.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (settings: http_host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (settings: http_port).")] = None,
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Serve the decision API (/v1), metrics and probes on one process.

    On first start an admin key for the default tenant is generated and written to
    <data-dir>/admin-key (mode 0600; shown here too when stderr is a terminal, never in
    a log); make more with `shopguard keys create`. Key and console-user changes made by
    other commands reach the running server within a second. The OpenAPI document is at
    /v1/openapi.json. Partner webhooks are delivered from here too (settings:
    webhooks_deliver; docs/webhooks.md).

    Example: shopguard serve --port 8080 --data-dir ./shopguard-data
    """
    from shopguard.registries import open_keys

    def run() -> None:
        settings = settings_for(config, data_dir, pack).serving()  # event_time auto: live
        keys = open_keys(settings)
        if not keys.active():
            _first_admin_key(keys, settings.default_tenant, settings.admin_key_path)
        listen = (host or settings.http_host, port or settings.http_port)
        http_server(settings, keys, *listen).run()

    guard(run)


def http_server(
    settings: Settings,
    keys: Any,
    host: str,
    port: int,
    hint: str = "sign in as a user made with `shopguard users create`",
) -> Any:
    """The uvicorn server of the whole service (API, console, metrics) on one engine,
    loaded from the data directory's journal; it says where it serves on stderr once it
    listens."""
    import uvicorn

    from shopguard.api import create_app
    from shopguard.api.limits import Limits
    from shopguard.api.server import fit_open_files, protocol_class
    from shopguard.engine import Engine
    from shopguard.features.spec import parse_duration
    from shopguard.registries import open_rulesets, open_users
    from shopguard.rules.swap import bring
    from shopguard.version import build

    limits = Limits.from_settings(settings)
    limits = msgspec.structs.replace(limits, max_connections=fit_open_files(limits.max_connections))
    with err.status("loading the engine (replaying the journal)"):
        engine = Engine.from_config(settings=settings)
        rulesets = open_rulesets(settings)
        bring(engine, rulesets)
    application = create_app(
        engine,
        keys,
        settings.max_body_bytes,
        settings.max_batch,
        settings.max_inflight,
        rulesets=rulesets,
        operator_tenant=settings.default_tenant,
        compact_every=parse_duration(settings.compact_every),
        users=open_users(settings, parse_duration(settings.console_session)),
        limits=limits,
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
    config = uvicorn.Config(
        application, host=host, port=port, http=http, log_level="warning", access_log=False
    )

    class Announced(uvicorn.Server):
        """Says where it serves once it listens there: a client that reads the line can
        connect at once."""

        async def startup(self, sockets: Any = None) -> None:
            await super().startup(sockets)
            if self.started:
                for line in said:
                    err.print(line, highlight=False, soft_wrap=True)

    return Announced(config)


def base_url(host: str, port: int) -> str:
    """The address a browser on this machine opens: a wildcard listen address is
    reached at the loopback one."""
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}"


def _first_admin_key(keys: Any, tenant: str, path: Path) -> None:
    """An admin key for a fresh data directory, into a 0600 file; on the screen only when
    stderr is a terminal, so it never lands in a service's log."""
    from rich.markup import escape

    from shopguard.private import write_secret

    key, secret = keys.create(tenant, ["admin"], "generated at first start")
    path.unlink(missing_ok=True)  # a stale file from a data directory reset by hand
    write_secret(path, secret + "\n")
    err.print(
        f"admin key {key.id} for tenant [bold]{escape(key.tenant)}[/bold] written to"
        f" {escape(str(path))} (mode 0600): keep it somewhere safe, then delete the file"
    )
    if sys.stderr.isatty():
        err.print(f"  {secret}", highlight=False)


@keys_app.command("create")
def keys_create(
    tenant: Annotated[str, typer.Option(help="The tenant the key acts for.")],
    scope: Annotated[
        list[str], typer.Option(help="decide, label or admin; repeat for several.")
    ] = ["decide"],  # noqa: B006  (typer reads the default)
    name: Annotated[str, typer.Option(help="What the key is for.")] = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Create an API key and print it once (only its digest is stored).

    Example: shopguard keys create --tenant shop1 --scope decide --name checkout
    """
    from shopguard.registries import open_keys

    def run() -> None:
        settings = settings_for(config, data_dir)
        store = open_keys(settings)
        try:
            key, secret = store.create(tenant, scope, name)
        except ValueError as exc:
            from shopguard.errors import ConfigError

            raise ConfigError(str(exc)) from None
        typer.echo(secret)
        err.print(f"key {key.id} for {key.tenant}: {', '.join(sorted(key.scopes))}")

    guard(run)


@keys_app.command("list")
def keys_list(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """List active keys (ids, tenants, scopes; never secrets)."""
    from shopguard.registries import open_keys

    def run() -> None:
        store = open_keys(settings_for(config, data_dir))
        table = Table("id", "tenant", "scopes", "name")
        for key in store.active():
            table.add_row(key.id, key.tenant, ", ".join(sorted(key.scopes)), key.name)
        err.print(table)

    guard(run)


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="The key's id (see `shopguard keys list`).")],
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Revoke a key at once (a running server refuses it within a second)."""
    from shopguard.errors import ConfigError
    from shopguard.registries import open_keys

    def run() -> None:
        store = open_keys(settings_for(config, data_dir))
        if not store.revoke(key_id):
            raise ConfigError(f"no active key {key_id!r}")
        err.print(f"revoked {key_id}")

    guard(run)


UserNameOpt = Annotated[str, typer.Option(help="The sign-in name.")]
# asked at the prompt, twice and unechoed, unless given
PasswordOpt = Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)]
users_app = typer.Typer(help="Console users (risk analysts).", no_args_is_help=True)
app.add_typer(users_app, name="users")


@users_app.command("create")
def users_create(
    name: UserNameOpt,
    tenant: Annotated[str, typer.Option(help="The tenant whose data the user sees.")],
    role: Annotated[str, typer.Option(help="analyst, or admin (rulesets, if operator).")] = (
        "analyst"
    ),
    password: PasswordOpt = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Create (or replace) a console user; the password is hashed with scrypt. Replacing
    one ends their console sessions.

    Example: shopguard users create --name alice --tenant default --role admin
    """
    from shopguard.errors import ConfigError
    from shopguard.registries import open_users

    def run() -> None:
        settings = settings_for(config, data_dir)
        settings.access_path.parent.mkdir(parents=True, exist_ok=True)
        users = open_users(settings)
        try:
            users.create(name, tenant, role, password)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        err.print(f"console user {name} ({role}) for tenant {tenant}")

    guard(run)


@users_app.command("passwd")
def users_passwd(
    name: UserNameOpt,
    password: PasswordOpt = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Set a console user's password and end every session they have (a running server
    refuses the old sessions at once).

    Example: shopguard users passwd --name alice
    """
    from shopguard.errors import ConfigError
    from shopguard.registries import open_users

    def run() -> None:
        users = open_users(settings_for(config, data_dir))
        try:
            found = users.passwd(name, password)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if not found:
            raise ConfigError(f"no console user {name!r}")
        err.print(f"password of {name} set; their sessions are ended")

    guard(run)
