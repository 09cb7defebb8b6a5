"""`shopguard webhooks`: deliver the outbox to partners' endpoints beside (or instead of)
a server, and list a data directory's endpoints and their delivery counts."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for, settings_for

webhooks_app = typer.Typer(
    help="Signed webhooks to partners (docs/webhooks.md).", no_args_is_help=True
)
app.add_typer(webhooks_app, name="webhooks")


@webhooks_app.command("deliver")
def deliver(
    daemon: Annotated[
        bool, typer.Option("--daemon", help="Keep delivering until stopped (Ctrl-C, SIGTERM).")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Deliver the outbox, list changes and recommendations to partners' endpoints.

    Fans new messages out to the matching endpoints and sends what is due; without
    --daemon, until nothing more is due now (retries scheduled later wait for the next
    run).

    `shopguard serve` does this itself (settings: webhooks_deliver); run this where the
    server does not deliver, or from cron. Delivery state is in the journal, so any run
    resumes where the last one stopped, with the same webhook-ids.

    Example: shopguard webhooks deliver --daemon --data-dir ./shopguard-data
    """
    import asyncio
    import signal

    from shopguard.webhooks.worker import Worker, WorkerConfig

    async def once(worker: Worker) -> int:
        attempts = 0
        try:
            while made := await worker.pass_once():
                attempts += made
        finally:
            await worker.aclose()
        return attempts

    async def forever(worker: Worker) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await worker.run(stop)

    def run() -> None:
        settings, store, where = _store(config, data_dir)
        worker = Worker(store, WorkerConfig.from_settings(settings))
        try:
            if daemon:
                err.print(f"delivering webhooks from {where} (Ctrl-C stops)")
                asyncio.run(forever(worker))
            else:
                attempts = asyncio.run(once(worker))
                counts = store.counts()
                summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
                err.print(f"{attempts} attempts; deliveries: {summary}")
        finally:
            store.close()

    guard(run)


@webhooks_app.command("endpoints")
def endpoints(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """List every tenant's endpoints (never their secrets).

    Manage them with the API (/v1/webhooks/endpoints) or the console's Webhooks page.

    Example: shopguard webhooks endpoints --data-dir ./shopguard-data
    """

    def run() -> None:
        _, store, _ = _store(config, data_dir)
        table = Table("id", "tenant", "url", "kinds", "status")
        for e in store.endpoints():
            status = e.status + (f" ({e.disabled_reason})" if e.disabled_reason else "")
            table.add_row(e.id, e.tenant, e.url, ", ".join(e.kinds), status)
        store.close()
        err.print(table)

    guard(run)


def _store(config: ConfigOpt, data_dir: DataOpt) -> tuple[Any, Any, str]:
    """(settings, the deployment's webhook store, where it is): the PostgreSQL journal's
    schema (decision_log: postgres; several `deliver --daemon` may share it), else the
    data directory's journal file."""
    from shopguard.webhooks.protocol import open_webhooks

    settings = settings_for(config, data_dir)
    if settings.decision_log == "postgres":
        where = f"PostgreSQL schema {settings.postgres_schema}"
        return settings, open_webhooks(settings), where
    settings, path = journal_for(config, data_dir)
    return settings, open_webhooks(settings, path), str(path)
