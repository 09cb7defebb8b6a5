"""The Typer app, its shared options, and the helpers every command uses."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import msgspec
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shopguard.errors import ShopGuardError

if TYPE_CHECKING:
    from shopguard.settings import Settings

app = typer.Typer(
    help="ShopGuard: real-time risk decisions for retail events.\n\n"
    "Examples:\n\n"
    '  echo \'{"type":"sms.send",...}\' | shopguard decide\n\n'
    "  shopguard replay ../shared/data/fdh/transactions.csv.gz --mapping fdh --out d.jsonl\n\n"
    "  shopguard rules check --pack ./my-pack\n\n"
    "  shopguard simulate --events 200000 --out sim.jsonl\n\n"
    "  shopguard evaluate --events 1000000 --seed 7 --out-dir evaluation",
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


def progress_bar(label: str) -> Progress:
    """The progress bar every long command shows on stderr."""
    return Progress(
        TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=err
    )


def guard(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except ShopGuardError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None
    except (OSError, msgspec.DecodeError) as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(2) from None


def settings_for(
    config: Path | None, data_dir: Path | None = None, pack: str | None = None, **overrides: Any
) -> Settings:
    """Settings with the command line's --data-dir and --pack laid over them."""
    from shopguard.private import restrict
    from shopguard.settings import load_settings

    if data_dir is not None:
        overrides["data_dir"] = str(data_dir)
    if pack is not None:
        overrides["pack"] = pack
    settings = load_settings(config, overrides)
    restrict(settings.data_dir)  # owner-only files from here on, and tighten old ones
    return settings


def journal_for(config: Path | None, data_dir: Path | None) -> tuple[Settings, Path]:
    """The settings and the existing journal of a data directory (error if there is none)."""
    from shopguard.errors import ConfigError

    settings = settings_for(config, data_dir)
    path = settings.journal_path
    if not path.is_file():
        raise ConfigError(f"no journal at {path}: point --data-dir at a ShopGuard data directory")
    return settings, path


def engine_for(
    config: Path | None, pack: str | None, data_dir: Path | None, **overrides: Any
) -> Any:
    from shopguard.engine import Engine

    return Engine.from_config(settings=settings_for(config, data_dir, pack, **overrides))


def chunks(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while chunk := list(islice(items, size)):
        yield chunk
