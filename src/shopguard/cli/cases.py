"""`shopguard labels import` and `shopguard report merchants`: confirmed cases in, the
money they add up to per merchant out. Both work on the journal in the data directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for, progress_bar
from shopguard.errors import ConfigError, InvalidLabel
from shopguard.events.decode import parse_instant

labels_app = typer.Typer(help="Confirmed cases: chargebacks, theft, analyst verdicts.")
report_app = typer.Typer(help="Reports over the decision journal.", no_args_is_help=True)
app.add_typer(labels_app, name="labels")
app.add_typer(report_app, name="report")


def _when(text: str | None, default: float) -> float:
    if text is None:
        return default
    try:
        return parse_instant(text)
    except ValueError:
        example = "2025-03-01 or 2025-03-01T12:00:00+08:00"
        raise ConfigError(f"bad date {text!r}; use e.g. {example}") from None


def _open(config: Path | None, data_dir: Path | None) -> tuple[Any, Any]:
    """The journal and the key ring of a data directory, without replaying any state."""
    from shopguard.desensitize import Desensitizer, KeyRing
    from shopguard.state import make_decision_log

    settings, path = journal_for(config, data_dir)
    keys, active = settings.resolved_keys()
    return make_decision_log("sqlite", path=path), Desensitizer(KeyRing.from_settings(keys, active))


@labels_app.command("import")
def labels_import(
    source: Annotated[Path, typer.Argument(help="JSON lines, one label per line.")],
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Load confirmed cases into the journal. Each line names an event or an entity:

    {"tenant": "shop1", "kind": "chargeback", "event_id": "pay-881", "loss": 129.0,
    "known_at": 1741392000, "source": "chargeback-file"}

    {"tenant": "shop1", "kind": "fraud", "entity_kind": "phone", "entity": "13812345678"}

    kind is fraud, chargeback, theft, abuse or legit (the label known last wins for an
    event); raw entity values are pseudonymized before they are stored.

    Example: shopguard labels import chargebacks.jsonl --data-dir ./shopguard-data
    """
    from shopguard.labels.label import label_from

    def run() -> None:
        log, desensitize = _open(config, data_dir)
        now = datetime.now(UTC).timestamp()
        counts: dict[str, int] = {}
        with progress_bar("labels") as progress, source.open("rb") as lines:
            task = progress.add_task("import", total=None)
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                fields = {"known_at": now, **msgspec.json.decode(line)}
                try:
                    label = label_from(fields, desensitize.entity)
                except InvalidLabel as exc:
                    raise ConfigError(f"{exc} ({exc.path})", f"{source}: line {number}") from None
                log.add_label(label)
                counts[label.kind] = counts.get(label.kind, 0) + 1
                progress.advance(task)
        log.close()
        summary = ", ".join(f"{n:,} {kind}" for kind, n in sorted(counts.items()))
        err.print(f"imported {sum(counts.values()):,} labels ({summary or 'none'})")

    guard(run)


@report_app.command("merchants")
def report_merchants(
    tenant: Annotated[str, typer.Option(help="Whose merchants.")],
    since: Annotated[str | None, typer.Option(help="Events from (ISO date, UTC).")] = None,
    until: Annotated[str | None, typer.Option(help="Events before (ISO date, UTC).")] = None,
    known_by: Annotated[
        str | None, typer.Option(help="Count only labels known by then (month-end close).")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="JSON lines instead of a table.")] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Merchant health: decided events, value blocked, confirmed loss and loss rate
    (loss / money charged) per merchant, worst loss rate first.

    Example: shopguard report merchants --tenant shop1 --since 2025-03-01 --until 2025-04-01
    """

    def run() -> None:
        log, _ = _open(config, data_dir)
        rows = log.merchant_health(
            tenant,
            _when(since, 0.0),
            _when(until, float("inf")),
            None if known_by is None else _when(known_by, 0.0),
        )
        log.close()
        rows.sort(key=lambda h: (-(h.loss_rate or 0.0), -h.decided))
        if json:
            for row in rows:
                typer.echo(msgspec.json.encode(row).decode())
            return
        table = Table(title=f"merchant health: {tenant}")
        for name in ("merchant", "decided", "denied", "challenged", "charged", "blocked"):
            table.add_column(name, justify="left" if name == "merchant" else "right")
        for name in ("loss", "cases", "loss rate"):
            table.add_column(name, justify="right")
        for h in rows:
            rate = "-" if h.loss_rate is None else f"{h.loss_rate:.3%}"
            table.add_row(
                h.merchant,
                f"{h.decided:,}",
                f"{h.denied:,}",
                f"{h.challenged:,}",
                f"{h.gross_value:,.2f}",
                f"{h.blocked_value:,.2f}",
                f"{h.confirmed_loss:,.2f}",
                f"{h.loss_cases:,}",
                rate,
            )
        Console().print(table)

    guard(run)
