"""`shopguard audit verify`, `shopguard journal compact|stats`, `shopguard erase`: the
journal's tamper evidence, retention and erasure requests."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for, settings_for

audit_app = typer.Typer(help="Tamper evidence of the journal.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


@audit_app.command("verify")
def audit_verify(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Recompute the hash chains over every decision record, list change, label,
    redaction, compaction anchor, ruleset change and model registry change (with each
    registered model's files), check each chain ends at the head sealed outside the
    database with the data directory's audit key, recompute the search index from the
    journaled facts and check the snapshot's MAC; exit 1 and name every kind of
    tampering found (docs/audit.md). Prints the head hashes: keep them elsewhere too.

    Example: shopguard audit verify --data-dir ./shopguard-data
    """
    from shopguard.registries import open_models, open_rulesets, shared
    from shopguard.state.sqlite import SqliteDecisionLog

    def run() -> None:
        settings = settings_for(config, data_dir)
        if settings.decision_log == "postgres":  # every writer's chains, one snapshot
            reports = _postgres_journal(settings).verify()
        else:
            settings, path = journal_for(config, data_dir)
            log = SqliteDecisionLog(path, read_only=True)
            reports = log.verify()
            log.close()
        if shared(settings) or settings.rulesets_path.is_file():
            rulesets = open_rulesets(settings)
            reports.append(rulesets.verify())
            rulesets.close()
        if shared(settings) or (settings.models_path / "changes.jsonl").is_file():
            models = open_models(settings)
            reports.append(models.verify())
            models.close()
        table = Table("chain", "records", "head", "verdict")
        for r in reports:
            verdict = "ok" if r.ok else f"[red]{r.table}: {r.problem} at {r.at}[/red]"
            head = (r.head[:16] + "…") if r.head else "-"
            table.add_row(r.table, f"{r.records:,}", head, verdict)
        err.print(table)
        for r in reports:
            if r.head:
                typer.echo(f"{r.table} head {r.head}")
        for r in reports:
            if not r.ok:
                where = f" at {r.at}" if r.at is not None else ""
                typer.echo(f"TAMPERED {r.table}: {r.problem}{where}")
        if not all(r.ok for r in reports):
            raise typer.Exit(1)

    guard(run)


def _postgres_journal(settings: Any) -> Any:
    """The PostgreSQL journal, read-only (beside running workers), with the data
    directory's audit key (the one every worker shares)."""
    from pathlib import Path

    from shopguard.features.spec import parse_duration
    from shopguard.state.audit import audit_key
    from shopguard.state.postgres import PostgresDecisionLog

    key = audit_key(Path(settings.data_dir), create=False)
    timeout = parse_duration(settings.postgres_timeout)
    return PostgresDecisionLog(
        settings.postgres_dsn, settings.postgres_schema, timeout, key=key, read_only=True
    )


@audit_app.command("adopt")
def audit_adopt(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Seal the journal's chain heads as they are now and clear a head-file alarm: for a
    journal written before sealed heads, or after checking one by hand (its heads against
    copies kept elsewhere). Stop the server first.

    Example: shopguard audit adopt --data-dir ./shopguard-data
    """
    from shopguard.state.sqlite import SqliteDecisionLog

    def run() -> None:
        _, path = journal_for(config, data_dir)
        log = SqliteDecisionLog(path)
        log.adopt()
        log.close()
        err.print("sealed the journal's heads as they are now")

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
        log = SqliteDecisionLog(path, read_only=True)
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
