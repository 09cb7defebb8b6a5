"""`shopguard audit verify`: check the journal's hash chains."""

from __future__ import annotations

import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for

audit_app = typer.Typer(help="Tamper evidence of the journal.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Recompute the hash chains over every decision record and list change; exit 1 and
    name the first edited, inserted or deleted record if one does not verify. Prints the
    head hashes: keep them elsewhere to detect the newest records being cut off.

    Example: shopguard audit verify --data-dir ./shopguard-data
    """
    from shopguard.state.sqlite import SqliteDecisionLog

    def run() -> None:
        _, path = journal_for(config, data_dir)
        log = SqliteDecisionLog(path)
        reports = log.verify()
        log.close()
        table = Table("chain", "records", "head", "verdict")
        for r in reports:
            verdict = "ok" if r.ok else f"[red]{r.problem} at {r.at}[/red]"
            table.add_row(r.table, f"{r.records:,}", r.head[:16] + "…", verdict)
        err.print(table)
        for r in reports:
            typer.echo(f"{r.table} head {r.head}")
        if not all(r.ok for r in reports):
            raise typer.Exit(1)

    guard(run)
