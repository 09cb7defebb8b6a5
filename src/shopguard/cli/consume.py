"""`shopguard consume`: events from a NATS JetStream stream (or files) through the engine,
each acknowledged once its decision is durable."""

from __future__ import annotations

import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.logging import RichHandler
from rich.progress import Progress, TextColumn, TimeElapsedColumn

from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, app, err, guard, settings_for

if TYPE_CHECKING:
    from shopguard.engine import Engine
    from shopguard.settings import Settings
    from shopguard.sources import EventSource

log = logging.getLogger("shopguard.consume")


@app.command()
def consume(
    files: Annotated[
        list[Path] | None,
        typer.Argument(
            help="With --source files: JSONL files (.gz ok), or CSV/Parquet "
            "with --mapping, read as `shopguard replay` reads them."
        ),
    ] = None,
    source: Annotated[
        str, typer.Option(help="Where events come from: nats (a JetStream stream) or files.")
    ] = "nats",
    url: Annotated[str | None, typer.Option(help="NATS server (setting nats_url).")] = None,
    stream: Annotated[
        str | None, typer.Option(help="JetStream stream, created if absent (nats_stream).")
    ] = None,
    subject: Annotated[
        list[str] | None,
        typer.Option(help="Subjects a new stream captures; repeat for more (nats_subjects)."),
    ] = None,
    durable: Annotated[
        str | None,
        typer.Option(
            help="Durable consumer: where the stream is read up to; processes "
            "sharing one share its messages (nats_durable)."
        ),
    ] = None,
    batch: Annotated[
        int | None, typer.Option(help="Messages decided per durable commit (nats_batch).")
    ] = None,
    ack_wait: Annotated[
        float,
        typer.Option(
            help="Seconds before a message fetched and not acknowledged (a "
            "crashed consumer's) is delivered again; applies when the consumer is created."
        ),
    ] = 30.0,
    idle_stop: Annotated[
        float | None,
        typer.Option(
            help="Stop after this many seconds with no message (a catch-up run); "
            "default: wait for more for ever."
        ),
    ] = None,
    mapping: Annotated[
        str | None, typer.Option(help="With --source files: the column mapping of a CSV.")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="With --source files: decisions as JSON lines here (default standard output)."
        ),
    ] = None,
    config: ConfigOpt = None,
    pack: PackOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Decide a stream of events as it comes: a NATS JetStream durable consumer fetches
    --batch events, decides them with one durable commit, publishes each decision to
    <nats_decisions>.<tenant> and each alert (outcome at the policy's alert_at) to
    <nats_alerts>.<tenant>, then acknowledges them. A killed consumer loses nothing: what
    it had not acknowledged comes again and an event already journaled is answered from
    the journal, not counted twice (publications carry Nats-Msg-Id tenant:event_id for
    JetStream's dedupe). A malformed event is rejected alone with a one-line log (never
    delivered again). SIGTERM or Ctrl-C finishes the batch, acknowledges it and exits.

    Example: shopguard consume --stream SHOPGUARD_EVENTS --subject 'shopguard.events.>'

    Then publish events (nats pub shopguard.events.shop '{"type":"sms.send",...}') and
    read decisions (nats sub 'shopguard.decisions.>'). See docs/consume.md.

    Files: shopguard consume --source files sim.jsonl --out decisions.jsonl
    """

    def run() -> None:
        overrides: dict[str, Any] = {}
        for name, value in (("nats_url", url), ("nats_stream", stream),
                            ("nats_subjects", subject or None), ("nats_durable", durable),
                            ("nats_batch", batch)):  # fmt: skip
            if value is not None:
                overrides[name] = value
        settings = settings_for(config, data_dir, pack, **overrides)
        if source == "nats":
            settings = settings.serving()  # a live stream: event_time auto means live
        with contextlib.ExitStack() as stack:
            stack.enter_context(_logs())
            events = stack.enter_context(_opened(settings, source, files, mapping, out, ack_wait))
            from shopguard.engine import Engine

            engine = Engine.from_config(settings=settings)
            stack.callback(engine.close)
            if source == "nats":
                err.print(
                    f"consuming {settings.nats_stream} as {settings.nats_durable} from "
                    f"{settings.nats_url}; decisions to {settings.nats_decisions}.<tenant>",
                    highlight=False,
                )
            _run(engine, events, settings.nats_batch, idle_stop, _where(settings, source))

    guard(run)


def _where(settings: Settings, source: str) -> str:
    """What the progress line names: the stream (its server is in the start line)."""
    return settings.nats_stream if source == "nats" else source


@contextlib.contextmanager
def _logs() -> Iterator[None]:
    """Warnings as one line each above the progress line, the journal's too; nats-py's
    own reconnect noise is left out (the source says it once)."""
    handler = RichHandler(console=err, show_time=False, show_path=False, markup=False)
    handler.setFormatter(logging.Formatter("%(message)s"))
    ours, client = logging.getLogger("shopguard"), logging.getLogger("nats")
    levels = ours.level, client.level
    ours.addHandler(handler)
    ours.setLevel(logging.INFO)
    client.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        ours.removeHandler(handler)
        ours.setLevel(levels[0])
        client.setLevel(levels[1])


@contextlib.contextmanager
def _opened(
    settings: Settings,
    name: str,
    files: list[Path] | None,
    mapping: str | None,
    out: Path | None,
    ack_wait: float,
) -> Iterator[EventSource]:
    from shopguard.errors import ConfigError
    from shopguard.sources import make_source

    with contextlib.ExitStack() as stack:
        if name == "files":
            if not files:
                raise ConfigError("--source files needs at least one file")
            sink = stack.enter_context(out.open("wb")) if out else sys.stdout.buffer
            events = make_source("files", paths=files, mapping=mapping, out=sink)
        elif files:
            raise ConfigError(f"files are read with --source files, not {name}")
        else:
            events = make_source(
                name,
                url=settings.nats_url,
                stream=settings.nats_stream,
                subjects=settings.nats_subjects,
                durable=settings.nats_durable,
                decisions=settings.nats_decisions,
                alerts=settings.nats_alerts,
                ack_wait=ack_wait,
                batch=settings.nats_batch,
            )
        try:
            yield events
        finally:
            events.close()


class _Stop:
    """SIGTERM or SIGINT: finish the batch, acknowledge it, exit. A second one stops now."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self._old: dict[int, Any] = {}

    def __enter__(self) -> _Stop:
        if threading.current_thread() is threading.main_thread():
            for signum in (signal.SIGTERM, signal.SIGINT):
                self._old[signum] = signal.signal(signum, self._asked)
        return self

    def _asked(self, signum: int, frame: object) -> None:
        if self.event.is_set():
            raise KeyboardInterrupt
        self.event.set()
        log.warning("stopping after this batch (again to stop now)")

    def __exit__(self, *exc: object) -> None:
        for signum, handler in self._old.items():
            signal.signal(signum, handler)


def _run(
    engine: Engine, events: EventSource, batch: int, idle_stop: float | None, where: str
) -> None:
    from shopguard.sources.ingest import consume_batch

    counts = {"decided": 0, "again": 0, "rejected": 0}
    progress = Progress(
        TextColumn(
            f"{where}: {{task.completed:,.0f}} decided, {{task.fields[rate]:,.0f}}/s, "
            "{task.fields[rejected]:,} rejected"
        ),
        TimeElapsedColumn(),
        console=err,
    )
    started = last = time.monotonic()
    first = True
    with _Stop() as stop, progress:
        task = progress.add_task("consume", total=None, rate=0.0, rejected=0)
        while not stop.event.is_set():
            wait = 1.0 if idle_stop is None else min(1.0, max(idle_stop, 0.05))
            messages = events.fetch(batch, wait)
            now = time.monotonic()
            if not messages:
                if events.exhausted or (idle_stop is not None and now - last >= idle_stop):
                    break
                continue
            if first:  # the rate counts from the first message, not from the wait for it
                started, first = now, False
            consume_batch(engine, events, messages, counts)
            last = time.monotonic()
            rate = counts["decided"] / max(last - started, 1e-9)
            progress.update(task, completed=counts["decided"], rate=rate,
                            rejected=counts["rejected"])  # fmt: skip
    elapsed = max(last - started, 1e-9)
    err.print(
        f"{counts['decided']:,} decided, {counts['again']:,} answered again from the journal, "
        f"{counts['rejected']:,} rejected, {counts['decided'] / elapsed:,.0f}/s",
        highlight=False,
    )
