"""The ``shopguard`` command line: decide, replay, rules check.

Errors print one line (``error: ...``) and exit with status 2; --help on every command
explains its inputs with an example.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from shopguard.errors import ShopGuardError

app = typer.Typer(
    help="ShopGuard: real-time risk decisions for retail events.\n\n"
    "Examples:\n\n"
    '  echo \'{"type":"sms.send",...}\' | shopguard decide\n\n'
    "  shopguard replay ../shared/data/fdh/transactions.csv.gz --mapping fdh --out d.jsonl\n\n"
    "  shopguard rules check --pack ./my-pack",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
rules_app = typer.Typer(help="Work with rule packs.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")
err = Console(stderr=True)
T = TypeVar("T")

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config", "-c", help="Settings YAML (else $SHOPGUARD_CONFIG, else shipped defaults)."
    ),
]
PackOpt = Annotated[
    str | None,
    typer.Option(
        help="Pack: a shipped pack's name (starter) or a directory of features/rules/lists/"
        "policy YAML files."
    ),
]
DataOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Where the durable journal lives (overrides the settings)."),
]


def _progress(label: str) -> Progress:
    """The progress bar every long command shows on stderr."""
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def _guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ShopGuardError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None
    except (OSError, msgspec.DecodeError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(2) from None


def _engine(config: Path | None, pack: str | None, data_dir: Path | None, **overrides: Any) -> Any:
    from shopguard.engine import Engine
    from shopguard.settings import load_settings

    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)
    if pack is not None:
        overrides["pack"] = pack
    return Engine.from_config(settings=load_settings(config, overrides))


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
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
        events = _split_events(raw)
        options = {"decision_log": "memory"} if memory else {}
        engine = _engine(config, pack, data_dir, **options)
        try:
            for event in events:
                sys.stdout.buffer.write(decision_encoder.encode(engine.decide(event)) + b"\n")
        finally:
            engine.close()

    _guard(run)


def _split_events(raw: bytes) -> list[Any]:
    """One JSON event, a JSON array of events, or JSON lines."""
    try:
        whole = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return [line for line in raw.splitlines() if line.strip()]  # JSON lines
    return whole if isinstance(whole, list) else [raw]


@app.command()
def replay(
    source: Annotated[Path, typer.Argument(help="Events: JSONL (.gz ok) or CSV with --mapping.")],
    mapping: Annotated[
        str | None,
        typer.Option(
            help="CSV column mapping: a shipped one (fdh, ecommerce-fraud) or a YAML file."
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
        engine = _engine(config, pack, data_dir, **({} if durable else {"decision_log": "memory"}))
        spec = load_mapping(mapping) if mapping else None
        outcomes: Counter[str] = Counter()
        rules: Counter[str] = Counter()
        writer = out.open("wb") if out else None
        progress = _progress("replaying")
        try:
            with progress:
                task = progress.add_task("replay", total=limit)
                if spec is not None and not no_reader:
                    stream = iter_events_in_background(source, spec)
                else:
                    stream = iter_events(source, spec)
                if limit is not None:
                    stream = islice(stream, limit)
                for chunk in _chunks(stream, batch):
                    decisions = engine.decide_many([event for event, _ in chunk])
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

    _guard(run)


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Write events with their truth here (JSON lines).")],
    events: Annotated[int, typer.Option(help="About this many events.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same traffic.")] = 7,
    days: Annotated[int, typer.Option(help="Days of traffic.")] = 7,
    careful: Annotated[
        bool,
        typer.Option(help="Slower, quieter attack variants that look more like honest shoppers."),
    ] = False,
) -> None:
    """Generate seeded retail traffic (honest shoppers plus attacks) with ground truth.

    Each line is {"event": {...}, "truth": {"label": 0|1, "attack": "..."}}; `shopguard
    replay` reads it directly and carries the truth into its output.

    Example: shopguard simulate --events 200000 --seed 7 --out sim.jsonl
    """
    from shopguard.simulate import simulate as generate

    def run() -> None:
        progress = _progress("simulating")
        counts: Counter[str] = Counter()
        with progress, out.open("wb") as sink:
            task = progress.add_task("simulate", total=events)
            for i, (event, truth) in enumerate(generate(events, seed, days, careful)):
                sink.write(
                    b'{"event":' + event + b',"truth":' + msgspec.json.encode(truth) + b"}\n"
                )
                counts[truth.attack or "honest"] += 1
                if i % 10_000 == 0:
                    progress.update(task, completed=i)
            progress.update(task, completed=sum(counts.values()))
        table = Table(title=f"simulated {sum(counts.values()):,} events (seed {seed})")
        table.add_column("traffic")
        table.add_column("events", justify="right")
        for name, n in counts.most_common():
            table.add_row(name, f"{n:,}")
        err.print(table)

    _guard(run)


@app.command()
def evaluate(
    source: Annotated[
        Path | None,
        typer.Argument(
            help="Simulator output (JSON lines with truth); omit to simulate on the fly."
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option(help="Where report.md and outcomes.png go.")] = Path(
        "evaluation"
    ),
    events: Annotated[int, typer.Option(help="When simulating: about this many events.")] = (
        1_000_000
    ),
    seed: Annotated[int, typer.Option(help="When simulating: the seed.")] = 7,
    careful: Annotated[bool, typer.Option(help="When simulating: careful attacks.")] = False,
    title: Annotated[str, typer.Option(help="The report's title.")] = "ShopGuard detection report",
    config: ConfigOpt = None,
    pack: PackOpt = None,
) -> None:
    """Run labelled traffic through the engine and report recall per attack at the point
    of harm, money saved, and honest-shopper friction (Markdown + PNG chart).

    Example: shopguard evaluate --events 1000000 --seed 7 --out-dir docs/evaluation/seed-7
    """
    from shopguard.evaluate import Scoreboard
    from shopguard.evaluate.report import chart, markdown
    from shopguard.replay import iter_events
    from shopguard.simulate import simulate as generate

    def labelled() -> Iterator[tuple[bytes, str]]:
        if source is not None:
            for raw, labels in iter_events(source):
                yield raw, labels.get("attack", "")  # type: ignore[misc]
        else:
            for event, truth in generate(events, seed, careful=careful):
                yield event, truth.attack

    def run() -> None:
        engine = _engine(config, pack, None, decision_log="memory")
        board = Scoreboard()
        progress = _progress("evaluating")
        with progress:
            task = progress.add_task("evaluate", total=None if source else events)
            for chunk in _chunks(labelled(), 1024):
                decisions = engine.decide_many([raw for raw, _ in chunk])
                for decision, (raw, attack) in zip(decisions, chunk, strict=True):
                    board.add(msgspec.json.decode(raw), decision.outcome, attack, decision.time)
                progress.advance(task, len(chunk))
        engine.close()
        out_dir.mkdir(parents=True, exist_ok=True)
        chart(board, out_dir / "outcomes.png")
        command = "shopguard " + " ".join(sys.argv[1:]) if sys.argv[1:] else "shopguard evaluate"
        (out_dir / "report.md").write_text(markdown(board, title, command, "outcomes.png"))
        err.print(f"report written to {out_dir / 'report.md'}")

    _guard(run)


def _chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(islice(items, size)):
        yield chunk


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


@rules_app.command("check")
def rules_check(pack: PackOpt = None, config: ConfigOpt = None) -> None:
    """Load a pack and check every feature, rule, list and policy; exit 2 on the first
    problem, naming the rule or feature.

    Example: shopguard rules check --pack ./my-pack
    """
    from shopguard.config import load_pack
    from shopguard.settings import load_settings

    def run() -> None:
        settings = load_settings(config)
        loaded = load_pack(pack or settings.pack)
        table = Table(title=f"pack {pack or settings.pack} ({loaded.version})")
        table.add_column("event type")
        table.add_column("active", justify="right")
        table.add_column("shadow", justify="right")
        for event_type, rules in sorted(loaded.rules.by_type.items()):
            if rules:
                shadow = sum(r.shadow for r in rules)
                table.add_row(event_type, str(len(rules) - shadow), str(shadow))
        Console().print(table)
        Console().print(f"ok: {len(loaded.features)} features, {len(loaded.rules.rules)} rules")

    _guard(run)


def main() -> None:
    app()
