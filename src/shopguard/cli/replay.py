"""`shopguard replay`: history through the engine, with a progress bar and a summary."""

from __future__ import annotations

from collections import Counter
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer
from rich.table import Table

from shopguard.cli.app import (
    ConfigOpt,
    DataOpt,
    PackOpt,
    app,
    chunks,
    engine_for,
    err,
    guard,
    progress_bar,
)

if TYPE_CHECKING:
    from shopguard.replay import Mapping


@app.command()
def replay(
    source: Annotated[
        Path,
        typer.Argument(help="Events: JSONL (.gz ok), or CSV (.gz ok) / Parquet with --mapping."),
    ],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="Column mapping for a CSV or Parquet file: a shipped one (fdh, "
            "ecommerce-fraud) or a YAML file (docs/mappings.md; start one with "
            "`shopguard mapping draft FILE`)."
        ),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Write decisions here as JSON lines.")] = None,
    limit: Annotated[int | None, typer.Option(help="Stop after this many events.")] = None,
    batch: Annotated[int, typer.Option(help="Events per decide_many call.")] = 512,
    no_reader: Annotated[
        bool,
        typer.Option(
            "--no-reader", help="Parse CSV in this process (default: a second process reads)."
        ),
    ] = False,
    durable: Annotated[
        bool, typer.Option(help="Journal into --data-dir (default: a backtest in memory).")
    ] = False,
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Replay history through the engine, with a progress bar and a summary.

    Example: shopguard replay ../shared/data/fdh/transactions.csv.gz --mapping fdh
    --out fdh-decisions.jsonl
    """
    from shopguard.replay import iter_events, load_mapping
    from shopguard.replay.background import iter_events_in_background

    def run() -> None:
        engine = engine_for(
            config, pack, data_dir, **({} if durable else {"decision_log": "memory"})
        )
        spec = load_mapping(mapping) if mapping else None
        outcomes: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        writer = out.open("wb") if out else None
        progress = progress_bar("replaying")
        try:
            with progress:
                task = progress.add_task("replay", total=limit)
                if spec is not None and not no_reader:
                    stream = iter_events_in_background(source, spec)
                else:
                    stream = iter_events(source, spec)
                if limit is not None:
                    stream = islice(stream, limit)
                for chunk in chunks(stream, batch):
                    decisions = _decide(engine, chunk, source, spec)
                    for decision, (_, tags) in zip(decisions, chunk, strict=True):
                        outcomes[decision.outcome] += 1
                        rules.update(r.code for r in decision.reasons)
                        if writer:
                            line = msgspec.json.encode(
                                {"decision": decision, "labels": tags} if tags else decision
                            )
                            writer.write(line + b"\n")
                    progress.advance(task, len(chunk))
        finally:
            engine.close()
            if writer:
                writer.close()
        _summary(outcomes, rules)

    guard(run)


def _decide(engine: Any, chunk: list[Any], source: Path, spec: Mapping | None) -> list[Any]:
    """The engine's decisions; an event it refuses is named by its file row and field."""
    from shopguard.errors import ConfigError, InvalidEvent
    from shopguard.replay import find_bad_row

    try:
        return list(engine.decide_many([event for event, _ in chunk]))
    except InvalidEvent as exc:
        if spec is None:  # JSONL: the event's own path says it
            raise ConfigError(f"{source}: {exc.path}: {exc}") from None
        index = int(exc.path[2 : exc.path.index("]")]) if exc.path.startswith("$[") else 0
        bad = chunk[index][0]  # a dict, or JSON from the reader process
        doc = bad if isinstance(bad, dict) else msgspec.json.decode(bad)
        event_id = doc.get("event_id") if isinstance(doc, dict) else None
        where = find_bad_row(source, spec, event_id)
        raise ConfigError(where or f"{source}: {exc.path}: {exc}") from None


def _summary(outcomes: Counter[str], rules: Counter[str]) -> None:
    total = sum(outcomes.values()) or 1
    table = Table(title="outcomes")
    table.add_column("outcome")
    table.add_column("events", justify="right")
    table.add_column("share", justify="right")
    for name in ("allow", "review", "challenge", "deny"):
        table.add_row(name, f"{outcomes[name]:,}", f"{outcomes[name] / total:.2%}")
    err.print(table)
    top = Table(title="top reasons")
    top.add_column("reason code")
    top.add_column("hits", justify="right")
    for code, hits in rules.most_common(10):
        top.add_row(code, f"{hits:,}")
    err.print(top)
