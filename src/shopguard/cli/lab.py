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

from shopguard.cli.app import ConfigOpt, app, engine_for, err, guard, progress_bar


@app.command()
def simulate(
    out: Annotated[Path, typer.Option(help="Write events with their truth here (JSON lines).")],
    events: Annotated[int, typer.Option(help="About this many events.")] = 1_000_000,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same traffic.")] = 7,
    days: Annotated[int, typer.Option(help="Days of traffic.")] = 7,
    careful: Annotated[
        bool,
        typer.Option(
            help="Slower, quieter attack variants that look more like honest shoppers, each "
            "campaign's habits (rates, pool sizes, which links leak) drawn from the seed."
        ),
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
    seeds: Annotated[
        str | None,
        typer.Option(
            help="When simulating: several seeds (101,102,103 or 101-105), each with a fresh "
            "engine; a report per seed in OUT_DIR/seed-<n>/ and one summary.md."
        ),
    ] = None,
    careful: Annotated[bool, typer.Option(help="When simulating: careful attacks.")] = False,
    title: Annotated[str, typer.Option(help="The report's title.")] = "ShopGuard detection report",
    config: ConfigOpt = None,
    pack: Annotated[
        str,
        typer.Option(
            help="Pack: a shipped pack's name or a directory of YAML files (default: retail, "
            "the pack of README's and docs/evaluation's figures; a config's pack does not "
            "replace it)."
        ),
    ] = "retail",
) -> None:
    """Run labelled traffic through the engine and report recall per attack at the point
    of harm, ring accounts stopped before their second harm, money saved, and honest-shopper
    friction (events and accounts), against the targets (Markdown + PNG chart).

    Tune on the tuning seeds only and report on the held-out ones (docs/evaluation/README.md).

    Example: shopguard evaluate --events 1000000 --seed 7 --out-dir docs/evaluation/seed-7

    Example: shopguard evaluate --careful --seeds 101-105 --out-dir docs/evaluation/heldout
    """
    from shopguard.evaluate import Scoreboard
    from shopguard.evaluate.report import chart, markdown
    from shopguard.evaluate.runner import Labelled, score
    from shopguard.evaluate.summary import parse_seeds, summary
    from shopguard.replay import iter_events
    from shopguard.simulate import simulate as generate

    def labelled(seed: int) -> Iterator[Labelled]:
        if source is not None:
            for raw, labels in iter_events(source):
                yield raw, labels.get("attack", ""), float(labels.get("stake", 0))  # type: ignore[misc]
        else:
            for event, truth in generate(events, seed, careful=careful):
                yield event, truth.attack, truth.stake

    command = "shopguard " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "shopguard evaluate"

    def one(seed: int, folder: Path, heading: str) -> Scoreboard:
        engine = engine_for(config, pack, None, decision_log="memory")
        progress = progress_bar(f"evaluating seed {seed}")
        with progress:
            task = progress.add_task("evaluate", total=None if source else events)
            board, merchants = score(engine, labelled(seed), lambda n: progress.advance(task, n))
        engine.close()
        folder.mkdir(parents=True, exist_ok=True)
        chart(board, folder / "outcomes.png")
        report = markdown(board, heading, command, "outcomes.png", merchants, careful)
        (folder / "report.md").write_text(report)
        err.print(f"report written to {folder / 'report.md'}")
        return board

    chosen: list[int] = []
    if seeds is not None:
        if source is not None:
            raise typer.BadParameter("--seeds simulates: give no SOURCE with it")
        try:
            chosen = parse_seeds(seeds)
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None

    def run() -> None:
        if not chosen:
            one(seed, out_dir, title)
            return
        boards = {n: one(n, out_dir / f"seed-{n}", f"{title} (seed {n})") for n in chosen}
        (out_dir / "summary.md").write_text(summary(boards, title, command, careful))
        err.print(f"summary written to {out_dir / 'summary.md'}")

    guard(run)
