"""`shopguard rules check`: validate a pack without starting anything; `shopguard rules
rollout`: let a ruleset version decide a share of traffic."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from shopguard.cli.app import ConfigOpt, DataOpt, PackOpt, guard, rules_app, settings_for


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

    guard(run)


@rules_app.command("rollout")
def rules_rollout(
    number: Annotated[int, typer.Argument(help="The ruleset version to roll out.")],
    percent: Annotated[float, typer.Option(help="Share of traffic it decides, 0 to 100.")],
    by: Annotated[
        str, typer.Option(help="Entity hashed into buckets: account, device or ip.")
    ] = "account",
    actor: Annotated[str, typer.Option(help="Who makes the change (the audit trail).")] = ("cli"),
    config: ConfigOpt = None,
    data_dir: DataOpt = None,
) -> None:
    """Let a ruleset version decide a stable share of traffic before promoting it.

    The share is drawn by a keyed hash of the entity (an event without it falls back to
    account, device, then ip), so one account always goes the same way; its decisions
    name the version and carry rollout:<version> in their trace. A running server picks
    the change up within a second. `--percent 0` keeps it in shadow only; promote ends
    the rollout, rollback and unshadow cancel it.

    Example: shopguard rules rollout 4 --percent 10 --data-dir ./shopguard-data
    """
    from shopguard.config import load_pack
    from shopguard.registries import open_rulesets
    from shopguard.rules.versions import Rollout

    def run() -> None:
        settings = settings_for(config, data_dir)
        store = open_rulesets(settings)
        try:
            version = store.version(number)
            if version is not None:  # checked against the pack, as the API does
                load_pack(settings.pack).compile_rules(version.text, version.name)
            standing = store.change("rollout", actor, number, Rollout(percent, by))
        finally:
            store.close()
        rollout = standing.rollout
        share = f"{rollout.percent:g} % by {rollout.by}" if rollout else "shadow only"
        Console().print(f"version {number} rolled out: {share} (champion {standing.champion})")

    guard(run)
