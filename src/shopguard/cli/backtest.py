"""`shopguard backtest`: history through the champion and a candidate ruleset side by side."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, app, err, guard, settings_for
from shopguard.errors import ConfigError

if TYPE_CHECKING:
    from shopguard.config import Pack
    from shopguard.rules.ruleset import RuleSet
    from shopguard.rules.versions import Rulesets


class _Rate(ProgressColumn):
    def render(self, task: Task) -> Text:
        return Text(f"{task.speed:,.0f} ev/s" if task.speed else "", style="progress.data.speed")


def _instant(text: str | None, name: str) -> float | None:
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"--{name} {text!r}: an ISO time, e.g. 2025-03-01T10:00:00Z") from None
    return (when if when.tzinfo else when.replace(tzinfo=UTC)).timestamp()


@app.command()
def backtest(
    source: Annotated[
        Path | None,
        typer.Argument(help="Events: JSONL (.gz ok) or CSV with --mapping; none: the journal."),
    ] = None,
    candidate: Annotated[
        str,
        typer.Option(
            help="The candidate: a ruleset version number, a pack directory or a rules.yaml file."
        ),
    ] = "",
    champion: Annotated[
        str | None,
        typer.Option(help="Compare against this instead of the running champion (same forms)."),
    ] = None,
    mapping: Annotated[str | None, typer.Option(help="CSV column mapping (see replay).")] = None,
    label: Annotated[
        str | None,
        typer.Option(help="The label column that says fraud (default: label, is_fraud, class...)."),
    ] = None,
    since: Annotated[str | None, typer.Option(help="Journal: compare from this time.")] = None,
    until: Annotated[str | None, typer.Option(help="Journal: up to this time.")] = None,
    limit: Annotated[int | None, typer.Option(help="Compare at most this many events.")] = None,
    closed_loop: Annotated[
        bool,
        typer.Option(
            "--closed-loop",
            help="Two engines, each applying its own list effects (twice the work).",
        ),
    ] = False,
    out: Annotated[
        list[Path], typer.Option(help="Write the report: .json or .md (repeat for both).")
    ] = [],  # noqa: B006  (typer reads the default)
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Replay history through the champion and a candidate side by side; report every
    decision that changes: counts by (champion -> candidate) outcome, the rules that cause
    them, a sample with reasons, and recall and honest friction where labels exist.

    One engine decides with the champion and the candidate as its challenger, exactly as
    in shadow, in memory (the data directory is only read). Open loop: the candidate's
    list effects are not applied (--closed-loop: a second engine decides with the
    candidate and applies them, so its list entries decide later events). Without a
    file, the data directory's journal is re-decided (its labels mark fraud) and
    decisions from --since to --until compared.

    Examples: shopguard backtest sim.jsonl --candidate ./my-pack --out report.md

    shopguard backtest --data-dir ./data --candidate 4 --since 2025-03-01T00:00:00Z
    """
    from shopguard.backtest import (
        CLOSED_LOOP,
        OPEN_LOOP,
        backtest_engine,
        markdown,
        over_file,
        over_journal,
    )
    from shopguard.backtest import closed_loop as two_engines
    from shopguard.backtest.run import journal_size
    from shopguard.config import load_pack
    from shopguard.registries import open_rulesets, shared
    from shopguard.replay import iter_events, load_mapping
    from shopguard.rules.versions import running

    def run() -> None:
        if not candidate:
            raise ConfigError("--candidate is needed: a version number, pack directory or file")
        settings = settings_for(config, data_dir, pack)
        loaded = load_pack(settings.pack)
        found = shared(settings) or settings.rulesets_path.is_file()
        store = open_rulesets(settings) if found else None
        ours = _rules(loaded, champion, store) if champion else None
        if ours is None:
            ours = running(loaded, store).champion if store is not None else loaded.rules
        theirs = _rules(loaded, candidate, store)
        assert theirs is not None
        rival = None
        if closed_loop:
            engine, rival = two_engines(settings, loaded, ours, theirs)
        else:
            engine = backtest_engine(settings, loaded, ours, theirs)
        begin, end = _instant(since, "since"), _instant(until, "until")
        progress = Progress(
            TextColumn("backtest"), BarColumn(), MofNCompleteColumn(), _Rate(),
            TimeElapsedColumn(), TimeRemainingColumn(), console=err,
        )  # fmt: skip
        try:
            with progress:
                if source is not None:
                    task = progress.add_task("backtest", total=limit)
                    stream: Any = iter_events(source, load_mapping(mapping) if mapping else None)
                    if limit is not None:
                        stream = islice(stream, limit)
                    advance = lambda n: progress.advance(task, n)  # noqa: E731
                    comparison = over_file(engine, stream, label, advance, rival=rival)
                else:
                    journal = settings.journal_path
                    task = progress.add_task("backtest", total=journal_size(journal, end))
                    advance = lambda n: progress.advance(task, n)  # noqa: E731
                    comparison = over_journal(
                        engine, journal, begin, end, advance, limit, rival=rival
                    )
        finally:
            engine.close()
            if rival is not None:
                rival.close()
            if store is not None:
                store.close()
        report = comparison.report()
        note = CLOSED_LOOP if closed_loop else OPEN_LOOP
        _show(report, note)
        for path in out:
            if path.suffix == ".md":
                path.write_text(markdown(report, note), encoding="utf-8")
            else:
                path.write_bytes(msgspec.json.format(msgspec.json.encode(report)) + b"\n")

    guard(run)


def _rules(pack: Pack, ref: str, store: Rulesets | None) -> RuleSet | None:
    from shopguard.backtest import candidate_rules

    return candidate_rules(pack, ref, store)


def _show(report: dict[str, Any], note: str) -> None:
    console = Console()
    changes = Table(
        title=f"{report['changed']:,} of {report['events']:,} decisions change:"
        f" {report['champion']} -> {report['candidate']}"
    )
    for column in ("champion", "candidate", "events"):
        changes.add_column(column, justify="right" if column == "events" else "left")
    for t in report["transitions"]:
        changes.add_row(t["champion"], t["candidate"], f"{t['events']:,}")
    console.print(changes)
    rules = Table(title="by rule")
    for column in ("rule", "champion hits", "candidate hits", "changes added", "removed"):
        rules.add_column(column, justify="left" if column == "rule" else "right")
    for r in report["rules"][:20]:
        rules.add_row(
            r["rule"], f"{r['champion_hits']:,}", f"{r['candidate_hits']:,}",
            f"{r['changes_added']:,}", f"{r['changes_removed']:,}",
        )  # fmt: skip
    console.print(rules)
    labels = report["labels"]
    if labels:
        table = Table(title="on labelled events")
        for column in ("", "champion", "candidate", "delta"):
            table.add_column(column, justify="right" if column else "left")
        for key, name in (
            ("recall", "recall (denied or challenged)"),
            ("fraud_flagged", "fraud flagged (not allowed)"),
            ("honest_friction", "honest friction (not allowed)"),
        ):
            a, b, d = labels["champion"][key], labels["candidate"][key], labels["delta"][key]
            table.add_row(
                name,
                "n/a" if a is None else f"{a:.2%}",
                "n/a" if b is None else f"{b:.2%}",
                "n/a" if d is None else f"{d * 100:+.2f} pt",
            )
        console.print(table)
    for s in report["samples"][:5]:
        said = "; ".join(s["candidate_reasons"] or s["champion_reasons"])
        console.print(Text(f"{s['event_id']} {s['champion']} -> {s['candidate']}: {said}"))
    err.print(f"note: this backtest is {note}.")
