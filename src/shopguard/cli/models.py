"""`shopguard train` and `shopguard models`: fit a LightGBM model on a training set,
register it with its card, and choose which model scores (champion) or shadows
(challenger)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from shopguard.cli.app import (
    ConfigOpt,
    DataOpt,
    PackOpt,
    app,
    err,
    guard,
    progress_bar,
    settings_for,
)

if TYPE_CHECKING:
    from shopguard.model.registry import Models

models_app = typer.Typer(help="Registered models: champion, challenger.", no_args_is_help=True)
app.add_typer(models_app, name="models")


@app.command()
def train(
    dataset: Annotated[Path, typer.Argument(help="A Parquet training set (shopguard dataset).")],
    label: Annotated[str, typer.Option(help="The 0/1 column to learn.")] = "label",
    time_column: Annotated[str, typer.Option("--time", help="Event time column.")] = "time",
    features: Annotated[
        str | None,
        typer.Option(help="Comma-separated columns; default: every numeric and category one."),
    ] = None,
    validation: Annotated[
        str,
        typer.Option(
            help="Which rows validate: time (the newest share), random (a share of each"
            " class) or group (whole entities of --group: none in both)."
        ),
    ] = "time",
    valid_share: Annotated[float, typer.Option(help="Share of rows kept for validation.")] = 0.2,
    group: Annotated[
        str, typer.Option(help="The entity column of --validation group (and its folds).")
    ] = "entity_account",
    folds: Annotated[
        int,
        typer.Option(
            help="k-fold cross-validation on the training rows, dealt like --validation:"
            " reports mean ± sd and chooses the tree count (0: early stopping instead)."
        ),
    ] = 0,
    class_weight: Annotated[
        str,
        typer.Option(
            help="Weight of a fraud: auto (sqrt of the imbalance, <= 50), off, or a number."
        ),
    ] = "auto",
    params: Annotated[
        Path | None,
        typer.Option(help="LightGBM parameters (YAML or JSON mapping) over the defaults."),
    ] = None,
    rounds: Annotated[int, typer.Option(help="At most this many trees.")] = 1000,
    min_rounds: Annotated[
        int, typer.Option(help="Early stopping looks only from this many trees on.")
    ] = 50,
    max_categories: Annotated[
        int, typer.Option(help="Codes per category column; rarer values read as missing.")
    ] = 100,
    missed_fraud: Annotated[
        float, typer.Option(help="Cost of a missed fraud (the card's cost threshold).")
    ] = 100.0,
    blocked_honest: Annotated[float, typer.Option(help="Cost of a blocked honest event.")] = 5.0,
    note: Annotated[str, typer.Option(help="Stored in the model card.")] = "",
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Fit LightGBM, validated by time, at random or by entity, optionally with k-fold
    cross-validation; register the model with its card (data window, validation, features
    and category codes, metrics, thresholds, warnings). It scores nothing until made
    champion or challenger.

    Example: shopguard train train.parquet --validation group --group entity_device
    --folds 5 --params lgbm.yaml --note "july, 7-day label delay"
    """
    import pyarrow.parquet as pq

    from shopguard.errors import ConfigError
    from shopguard.model.trainer import TrainOptions, train_table
    from shopguard.registries import open_models

    def run() -> None:
        table = pq.read_table(dataset)
        options = TrainOptions(
            label=label, time=time_column, features=features.split(",") if features else None,
            validation=validation, valid_share=valid_share, group=group, folds=folds,
            class_weight=class_weight, params=_params(params), rounds=rounds,
            min_rounds=min_rounds, max_categories=max_categories, missed_fraud=missed_fraud,
            blocked_honest=blocked_honest,
        )  # fmt: skip
        with err.status(f"training on {table.num_rows:,} rows"):
            from lightgbm.basic import LightGBMError

            try:
                text, card = train_table(table, options)
            except ConfigError as exc:
                raise ConfigError(f"{dataset}: {exc}") from None
            except LightGBMError as exc:  # a parameter it refuses, named in its words
                raise ConfigError(f"LightGBM: {exc}") from None
        card.note = note
        settings = settings_for(config, data_dir)
        registry = open_models(settings)
        try:
            card = registry.register(text, card, "cli")
            _compile(registry, card.version)
        finally:
            registry.close()
        err.print(
            f"registered {card.version}: ROC-AUC {card.metrics['roc_auc']:.4f}, average"
            f" precision {card.metrics['average_precision']:.4f} on the validation rows"
            f" ({validation}, {card.rows['valid']:,} rows, {card.rows['valid_positive']:,}"
            f" frauds), {card.best_iteration} trees, class weight {card.class_weight}"
        )
        if card.cv:
            auc, ap = card.cv["roc_auc"], card.cv["average_precision"]
            err.print(
                f"{len(card.cv['best_iterations'])}-fold cross-validation ({validation}) on the"
                f" training rows: ROC-AUC {auc['mean']:.4f} ± {auc['sd']:.4f}, average"
                f" precision {ap['mean']:.4f} ± {ap['sd']:.4f}"
            )
        for warning in card.warnings:
            err.print(f"[yellow]warning:[/] {warning}")
        typer.echo(card.version)

    guard(run)


def _params(path: Path | None) -> dict[str, Any]:
    """LightGBM parameters from a YAML or JSON file (JSON is YAML too)."""
    if path is None:
        return {}
    import yaml

    from shopguard.errors import ConfigError
    from shopguard.yamlio import load_yaml

    try:
        doc = load_yaml(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not YAML or JSON ({exc.__class__.__name__})") from None
    if not isinstance(doc, dict) or not all(isinstance(k, str) for k in doc):
        raise ConfigError(f"{path}: LightGBM parameters must be a mapping of names to values")
    return doc


@models_app.command("list")
def models_list(config: ConfigOpt = None, data_dir: DataOpt = None) -> None:
    """Registered models with their validation metrics; ★ champion, ☾ challenger."""
    from shopguard.registries import open_models

    def run() -> None:
        registry = open_models(settings_for(config, data_dir))
        standing = registry.standing()
        table = Table("", "version", "features", "trees", "ROC-AUC", "avg precision", "note")
        for version in registry.versions():
            card = registry.card(version)
            mark = (
                "★"
                if version == standing.champion
                else "☾"
                if version == standing.challenger
                else ""
            )
            table.add_row(
                mark,
                version,
                str(len(card.features)),
                str(card.best_iteration),
                f"{card.metrics['roc_auc']:.4f}",
                f"{card.metrics['average_precision']:.4f}",
                card.note,
            )
        registry.close()
        err.print(table)

    guard(run)


@models_app.command("use")
def models_use(
    action: Annotated[str, typer.Argument(help="champion, challenger, promote or retire.")],
    version: Annotated[str | None, typer.Argument(help="m1, m2... (champion/challenger)")] = None,
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Make a version champion (scores decisions) or challenger (scores in shadow),
    promote the challenger, or retire it. A running server picks it up on restart.

    Example: shopguard models use challenger m3 && shopguard models use promote
    """
    from shopguard.registries import open_models

    def run() -> None:
        registry = open_models(settings_for(config, data_dir))
        try:
            standing = registry.change(action, "cli", version)
            for serving in (standing.champion, standing.challenger):
                if serving is not None:
                    _compile(registry, serving)
        finally:
            registry.close()
        err.print(f"champion {standing.champion or '-'}, challenger {standing.challenger or '-'}")

    guard(run)


def _compile(registry: Models, version: str) -> None:
    """Compile a model for this CPU now (cached beside it: seconds to tens of seconds for
    hundreds of trees), so a server starting with it does not wait."""
    from shopguard.model.gbm import GbmScorer

    with err.status(f"compiling {version} for this CPU"):
        GbmScorer(registry.check(version))


@app.command()
def dataset(
    source: Annotated[Path, typer.Argument(help="Events: JSON lines, simulator output or CSV.")],
    out: Annotated[Path, typer.Option(help="The Parquet file to write.")],
    label: Annotated[str, typer.Option(help="The source's 0/1 label column.")] = "label",
    mapping: Annotated[str | None, typer.Option(help="CSV mapping (fdh...).")] = None,
    types: Annotated[str | None, typer.Option(help="Comma-separated event types kept.")] = None,
    label_delay: Annotated[
        str | None,
        typer.Option(help="Send a case.label this long after each labelled event (e.g. 7d)."),
    ] = None,
    since: Annotated[
        str | None, typer.Option(help="Rows from this date (earlier events build state).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Rows before this date.")] = None,
    pack: PackOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Replay history through the engine (in memory, explain on) and write, per event,
    every value its decision saw plus the label: the training set for `shopguard train`.

    With --label-delay, each labelled event is followed that much later by the
    case.label a fraud team would have sent, so label features (a terminal's confirmed
    cases...) see it only from then on.

    Example: shopguard dataset ../shared/data/fdh/transactions.csv.gz --mapping fdh
    --label TX_FRAUD --label-delay 7d --types payment --pack cards --out fdh.parquet
    """
    import pyarrow.parquet as pq

    from shopguard.engine import Engine
    from shopguard.errors import ConfigError
    from shopguard.events.decode import parse_instant
    from shopguard.features.spec import parse_duration
    from shopguard.model.dataset import build
    from shopguard.replay.labels import with_delayed_labels
    from shopguard.replay.sources import iter_events, load_mapping

    def run() -> None:
        settings = settings_for(config, None, pack, decision_log="memory", explain=True)
        engine = Engine.from_config(settings=settings)
        pairs = iter_events(source, load_mapping(mapping) if mapping else None)
        kept = set(types.split(",")) if types else None
        if label_delay:  # cases about the kept types only: what the model learns to see
            pairs = with_delayed_labels(pairs, label, parse_duration(label_delay), kept)

        def labelled() -> Iterator[tuple[Any, int]]:
            for event, tags in pairs:
                if label not in tags:
                    raise ConfigError(f"{source}: events carry no {label!r} label")
                yield event, int(float(tags[label]))

        with progress_bar("deciding") as bar:
            task = bar.add_task("events", total=None)
            window = (
                parse_instant(since) if since else float("-inf"),
                parse_instant(until) if until else float("inf"),
            )
            table = build(
                engine,
                labelled(),
                kept,
                lambda n: bar.update(task, completed=n),
                since=window[0],
                until=window[1],
            )
        pq.write_table(table, out, compression="zstd")
        err.print(f"wrote {table.num_rows:,} rows x {table.num_columns} columns to {out}")

    guard(run)
