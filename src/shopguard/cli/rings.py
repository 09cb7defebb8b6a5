"""`shopguard rings`: communities of linked accounts over a window of the journal, scored,
published as the ring book the serving engine reads, and reported."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, app, err, guard, journal_for
from shopguard.cli.cases import _when
from shopguard.errors import ConfigError


def _progress() -> Progress:
    """Records read, with their rate and the time left."""
    return Progress(
        TextColumn("rings"),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err,
    )


@app.command("rings")
def rings(
    window: Annotated[
        str, typer.Option(help="How far back from the window's end: 7d, 48h, 2w.")
    ] = "7d",
    until: Annotated[
        str | None,
        typer.Option(
            help="The window's end (ISO date or instant, UTC); default: the newest event."
        ),
    ] = None,
    min_size: Annotated[int, typer.Option(help="Fewest accounts a ring has.")] = 3,
    min_score: Annotated[float, typer.Option(help="Lowest score a ring in the book has.")] = 0.0,
    report: Annotated[
        Path | None, typer.Option(help="Write DIR/rings.md and DIR/rings.png (top rings).")
    ] = None,
    top: Annotated[int, typer.Option(help="Rings shown in the table and the report.")] = 20,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Report only: leave the published book as it is.")
    ] = False,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Find rings: accounts linked by the devices, cards, phones, phone blocks, addresses,
    buildings, e-mails, networks and user agents their events share, per tenant, over a
    window of the journal. A value shared by more accounts than its kind allows (a public
    Wi-Fi, a mall's address) links nobody. Each ring is scored 0..1 from its size, growth,
    harm, denied decisions, fraud labels and the kinds of links it shares (docs/rings.md).

    The ring book is written atomically to the data directory (rings.msgpack); a running
    `shopguard serve` takes it within seconds: rules and the model read ring_score and
    ring_size, and members go on the watch list (source "rings").

    Example: shopguard rings --window 7d --data-dir ./shopguard-data --report ./rings-report
    """
    from shopguard.features.spec import parse_duration
    from shopguard.rings.book import book_path, save_book
    from shopguard.rings.build import BuildOptions, build_book
    from shopguard.rings.report import write_report
    from shopguard.state import make_decision_log

    def run() -> None:
        settings, path = journal_for(config, data_dir)
        window_s = parse_duration(window)  # a bad one: ConfigError, one line
        if window_s <= 0:
            raise ConfigError(f"--window must be positive, not {window!r}")
        log = make_decision_log("sqlite", path=path, read_only=True)
        options = BuildOptions(window_s, None if until is None else _when(until, 0.0), min_size,
                               min_score)  # fmt: skip
        total, _ = log.size()
        with _progress() as progress:
            task = progress.add_task("read", total=total, rate="")

            def advance(n: int) -> None:
                progress.advance(task, n)
                speed = progress.tasks[0].speed
                if speed:
                    progress.update(task, rate=f"{speed:,.0f} rec/s")

            book, graph = build_book(log, options, advance)
        log.close()
        if not dry_run:
            save_book(book_path(settings.data_dir), book)
        table = Table(title=f"rings: {len(book.rings):,} ({graph.records:,} records read)")
        for name in ("ring", "tenant", "score", "size", "new 24h", "harm", "denied", "labels"):
            table.add_column(name, justify="left" if name in ("ring", "tenant") else "right")
        table.add_column("shared")
        for r in book.rings[:top]:
            counts = (r.size, r.new_accounts_24h, r.harm_events, r.denied, r.fraud_labels)
            shared = ", ".join(f"{n} {k}" for k, n in sorted(r.link_types.items()))
            table.add_row(r.ring_id, r.tenant, f"{r.score:.2f}", *map(str, counts), shared)
        Console(stderr=True).print(table)
        if report is not None:
            md, png = write_report(book, report, top)
            err.print(f"report: {md} and {png}")
        where = "not published (--dry-run)" if dry_run else f"book: {book_path(settings.data_dir)}"
        err.print(where)

    guard(run)
