"""`shopguard serve`, `shopguard keys` and `shopguard users`: the HTTP API on uvicorn (one
process, or several workers: api/workers.py), its API keys and console users. The
server itself is built in cli/serving.py."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from shopguard.cli import serving
from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, app, err, guard, settings_for
from shopguard.cli.serving import base_url, http_server

__all__ = ["base_url", "http_server"]  # where shopguard demo finds them
keys_app = typer.Typer(help="API keys: one tenant each, with scopes.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address (settings: http_host).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (settings: http_port).")] = None,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Worker processes serving the one port (settings: workers). More than one"
            " needs state_store: redis and decision_log: postgres; a worker that dies is"
            " replaced.",
        ),
    ] = None,
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Serve the decision API (/v1), metrics and probes.

    On first start an admin key for the default tenant is generated and written to
    <data-dir>/admin-key (mode 0600; shown here too when stderr is a terminal, never in
    a log); make more with `shopguard keys create`. Key and console-user changes made by
    other commands reach the running server within a second. The OpenAPI document is at
    /v1/openapi.json. Partner webhooks are delivered from here too (settings:
    webhooks_deliver; docs/webhooks.md).

    With --workers N, N processes share the port (the kernel spreads connections over
    them), each with its own engine over the shared Redis state and PostgreSQL journal;
    list, key, ruleset and model changes reach every worker within propagate_every.
    Each answer names its worker in a shopguard-worker header (docs/cluster.md).

    Example: shopguard serve --port 8080 --data-dir ./shopguard-data
    Example: shopguard serve --workers 4 -c cluster.yaml
    """
    from shopguard.registries import open_keys

    def run() -> None:
        settings = settings_for(config, data_dir, pack).serving()  # event_time auto: live
        count = workers or settings.workers
        if count > 1:
            from shopguard.api.workers import check_shareable

            check_shareable(settings, count)  # before anything is created
        keys = open_keys(settings)
        if not keys.active():
            _first_admin_key(keys, settings.default_tenant, settings.admin_key_path)
        listen = (host or settings.http_host, port or settings.http_port)
        if count == 1:
            http_server(settings, keys, *listen).run()
            return
        from shopguard.api.workers import serve_workers
        from shopguard.version import build

        keys.close()
        settings.resolved_keys()  # made once here, not raced for by the workers
        where = base_url(*listen)

        def announce() -> None:
            err.print(f"serving on {where} with {count} workers ({build()} build)")
            hint = "sign in as a user made with `shopguard users create`"
            err.print(f"console: {where}/console ({hint})")

        serve_workers(f"{serving.__name__}:serve_worker", settings, *listen, count, announce)

    guard(run)


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
