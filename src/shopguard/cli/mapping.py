"""`shopguard mapping draft|check`: start a mapping for a new file, and try one on it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from shopguard.cli.app import app, err, guard

mapping_app = typer.Typer(
    help="Mappings: how the rows of a CSV or Parquet file become events (docs/mappings.md).\n\n"
    "Examples:\n\n"
    "  shopguard mapping draft orders.csv --out orders.yaml\n\n"
    "  shopguard mapping check orders.csv --mapping orders.yaml\n\n"
    "  shopguard replay orders.csv --mapping orders.yaml",
    no_args_is_help=True,
)
app.add_typer(mapping_app, name="mapping")


@mapping_app.command()
def draft(
    source: Annotated[Path, typer.Argument(help="A CSV (any delimiter, .gz ok) or Parquet file.")],
    out: Annotated[
        Path | None, typer.Option(help="Write the mapping here (default: standard output).")
    ] = None,
    rows: Annotated[int, typer.Option(help="Rows of the file to look at.", min=1)] = 2000,
    force: Annotated[bool, typer.Option("--force", help="Overwrite --out if it exists.")] = False,
) -> None:
    """Draft a mapping from a file's header and first rows.

    Detects the delimiter and encoding, guesses each column's role from its name and
    values (ids, times and their format, amounts, IPs, e-mails, phones, devices, labels
    such as is_fraud or Class), picks an event type, and writes what it could not place
    as commented suggestions. Every guess to check is marked TODO.

    Example: shopguard mapping draft ../shared/data/ecommerce-fraud/fraud_data_30k.csv
    --out ecom.yaml
    """
    from shopguard.errors import ConfigError
    from shopguard.replay.draft import draft_mapping
    from shopguard.replay.mapping import parse_mapping

    def run() -> None:
        if not source.is_file():
            raise ConfigError(f"no file {source}")
        if out is not None and out.exists() and not force:
            raise ConfigError(f"{out} exists: pass --force to overwrite it")
        text = draft_mapping(source, rows)
        parse_mapping(text, "drafted")  # a draft that would not load is a bug here
        if out is None:
            typer.echo(text, nl=False)
        else:
            out.write_text(text)
            todo = text.count("# TODO:")
            err.print(f"wrote {out}: {todo} TODO(s) to check", highlight=False)

    guard(run)


@mapping_app.command()
def check(
    source: Annotated[Path, typer.Argument(help="The file the mapping reads.")],
    mapping: Annotated[str, typer.Option(help="A shipped mapping's name or a YAML file.")],
    limit: Annotated[int | None, typer.Option(help="Stop after this many rows.")] = None,
) -> None:
    """Read a file through a mapping and decode every event it makes, without the engine:
    the first problem is named by its row, column or field path.

    Example: shopguard mapping check orders.csv --mapping orders.yaml
    """
    from itertools import islice

    from shopguard.errors import ConfigError, InvalidEvent
    from shopguard.events.decode import decode_event
    from shopguard.replay.mapping import load_mapping
    from shopguard.replay.sources import find_bad_row, rows_of

    def run() -> None:
        spec = load_mapping(mapping)
        made = checked = 0
        for number, events, _ in islice(rows_of(source, spec), limit):
            for event in events:
                try:
                    decode_event(event)
                except InvalidEvent:
                    raise ConfigError(find_bad_row(source, spec, event["event_id"])) from None
                made += 1
            checked = number
        err.print(f"{checked:,} rows, {made:,} events: every one decodes", highlight=False)

    guard(run)
