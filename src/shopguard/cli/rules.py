"""`shopguard rules check`: validate a pack without starting anything."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from shopguard.cli.app import ConfigOpt, PackOpt, guard, rules_app


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
