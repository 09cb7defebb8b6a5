"""`shopguard audit verify`, `shopguard journal compact|stats`, `shopguard erase`: the
journal's tamper evidence, retention and erasure requests."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for

audit_app = typer.Typer(help="Tamper evidence of the journal.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Recompute the hash chains over every decision record, list change, ruleset change
    and model registry change (with each registered model's files); exit 1 and name the
    first edited, inserted or deleted record if one does not verify. Prints the head
    hashes: keep them elsewhere to detect the newest records being cut off.

    Example: shopguard audit verify --data-dir ./shopguard-data
    """
    from shopguard.model.registry import ModelRegistry
    from shopguard.rules.versions import RulesetStore
    from shopguard.state.sqlite import SqliteDecisionLog

    def run() -> None:
        settings, path = journal_for(config, data_dir)
        log = SqliteDecisionLog(path)
        reports = log.verify()
        log.close()
        if settings.rulesets_path.is_file():
            rulesets = RulesetStore(settings.rulesets_path)
            reports.append(rulesets.verify())
            rulesets.close()
        if (settings.models_path / "changes.jsonl").is_file():
            reports.append(ModelRegistry(settings.models_path).verify())
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


journal_app = typer.Typer(help="The decision journal: retention and size.", no_args_is_help=True)
app.add_typer(journal_app, name="journal")


@journal_app.command("compact")
def journal_compact(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Apply the retention settings now (`shopguard serve` does it every `compact_every`):
    quiet records older than `retention_quiet` keep only their hashes, records older than
    `retention` are deleted (the chain keeps an anchor). Stop the server first.

    Example: SHOPGUARD_RETENTION=90d shopguard journal compact --data-dir ./shopguard-data
    """
    from shopguard.engine import Engine

    def run() -> None:
        settings, _ = journal_for(config, data_dir)
        with Engine.from_config(settings=settings) as engine:
            before = engine.log.size()
            counts = engine.compact()
            after = engine.log.size()
        err.print(
            f"deleted {counts['deleted']:,} records, thinned {counts['thinned']:,}; "
            f"{before[0]:,} -> {after[0]:,} records, {before[1]:,} -> {after[1]:,} bytes"
        )

    guard(run)


@journal_app.command("stats")
def journal_stats(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Records kept, bytes on disk and bytes per stored decision."""
    from shopguard.state.sqlite import SqliteDecisionLog

    def run() -> None:
        _, path = journal_for(config, data_dir)
        log = SqliteDecisionLog(path)
        rows, size = log.size()
        log.close()
        per = size / rows if rows else 0
        typer.echo(f"{rows:,} records, {size:,} bytes, {per:,.0f} bytes per decision")

    guard(run)


@app.command()
def erase(
    tenant: Annotated[str, typer.Option(help="The tenant whose entity it is.")],
    kind: Annotated[str, typer.Option(help="account, device, ip, phone, email, card...")],
    value: Annotated[str, typer.Option(help="The pseudonym (or the raw value with --raw).")],
    raw: Annotated[bool, typer.Option(help="VALUE is raw: pseudonymize it first.")] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Erase one entity's data on request: its journal records are redacted (hashes
    kept, so `audit verify` still passes), its feature state, list entries and labels
    are dropped, and a fresh snapshot is written. Stop the server first, or use
    DELETE /v1/entities/{kind}/{value} on a running one.

    Example: shopguard erase --tenant shop1 --kind phone --value 13812345678 --raw
    """
    from shopguard.engine import Engine

    def run() -> None:
        settings, _ = journal_for(config, data_dir)
        with Engine.from_config(settings=settings) as engine:
            counts = engine.erase(tenant, kind, value, raw=raw)
        err.print(", ".join(f"{name}: {n:,}" for name, n in counts.items()))

    guard(run)
