"""`shopguard simulate` and `shopguard evaluate`: labelled traffic and what a pack catches."""

from __future__ import annotations

import shlex
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich.table import Table

from shopguard.cli.app import ConfigOpt, PackOpt, app, chunks, engine_for, err, guard, progress_bar

LABEL_DELAY_S = 7 * 86400  # chargebacks and audits confirm a loss about a week later


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
        progress = progress_bar("simulating")
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

    guard(run)


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

    def labelled() -> Iterator[tuple[bytes, str, float]]:
        if source is not None:
            for raw, labels in iter_events(source):
                yield raw, labels.get("attack", ""), float(labels.get("stake", 0))  # type: ignore[misc]
        else:
            for event, truth in generate(events, seed, careful=careful):
                yield event, truth.attack, truth.stake

    def run() -> None:
        engine = engine_for(config, pack, None, decision_log="memory")
        board = Scoreboard()
        tenants: set[str] = set()
        progress = progress_bar("evaluating")
        with progress:
            task = progress.add_task("evaluate", total=None if source else events)
            for chunk in chunks(labelled(), 1024):
                decisions = engine.decide_many([raw for raw, _, _ in chunk])
                for decision, (raw, attack, stake) in zip(decisions, chunk, strict=True):
                    event = msgspec.json.decode(raw)
                    lost = board.add(event, decision.outcome, attack, decision.time, stake)
                    if lost:  # what a chargeback or an audit confirms a week later
                        tenants.add(event["tenant"])
                        case = {"tenant": event["tenant"], "event_id": event["event_id"]}
                        known_at = decision.time + LABEL_DELAY_S
                        engine.label({**case, "kind": "fraud", "loss": lost, "known_at": known_at})
                progress.advance(task, len(chunk))
        merchants = [h for tenant in sorted(tenants) for h in engine.merchant_health(tenant)]
        engine.close()
        out_dir.mkdir(parents=True, exist_ok=True)
        chart(board, out_dir / "outcomes.png")
        command = "shopguard " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "shopguard evaluate"
        report = markdown(board, title, command, "outcomes.png", merchants)
        (out_dir / "report.md").write_text(report)
        err.print(f"report written to {out_dir / 'report.md'}")

    guard(run)
