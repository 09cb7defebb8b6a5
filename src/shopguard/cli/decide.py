"""`shopguard decide`: JSON events in, decisions out."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import msgspec
import typer

from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, app, engine_for, guard


@app.command()
def decide(
    source: Annotated[
        str,
        typer.Argument(help="A file of one JSON event or JSON lines; '-' reads standard input."),
    ] = "-",
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
    memory: Annotated[
        bool, typer.Option(help="Keep nothing: no journal on disk (a dry run).")
    ] = False,
) -> None:
    """Decide events given as JSON; print one decision (JSON) per event.

    Example: echo '{"type":"sms.send","event_id":"e1","time":"2025-01-01T00:00:00Z",
    "tenant":"shop","phone":"13812345678","ip":"1.2.3.4"}' | shopguard decide --memory
    """
    from shopguard.decision import decision_encoder

    def run() -> None:
        # A failed journal write ends the command with its one-line error (guard); the
        # server's rate-limited "write failed" log line would only repeat it.
        logging.getLogger("shopguard.storage").setLevel(logging.ERROR)
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        events = _split_events(raw)
        options = {"decision_log": "memory"} if memory else {}
        engine = engine_for(config, pack, data_dir, **options)
        try:
            for event in events:
                sys.stdout.buffer.write(decision_encoder.encode(engine.decide(event)) + b"\n")
        finally:
            engine.close()

    guard(run)


def _split_events(raw: bytes) -> list[Any]:
    """One JSON event, a JSON array of events, or JSON lines."""
    try:
        whole = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return [line for line in raw.splitlines() if line.strip()]  # JSON lines
    return whole if isinstance(whole, list) else [raw]
