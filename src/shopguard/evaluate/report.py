"""The detection report: a Markdown page and a PNG chart of outcomes over time."""

from __future__ import annotations

from pathlib import Path

from shopguard.evaluate.metrics import OUTCOMES, Scoreboard
from shopguard.labels import MerchantHealth

RECALL_TARGET = 0.95
DENY_BUDGET, FRICTION_BUDGET = 0.001, 0.01


def markdown(
    board: Scoreboard,
    title: str,
    command: str,
    chart: str | None,
    merchants: list[MerchantHealth] | None = None,
) -> str:
    friction = board.friction()
    honest = sum(board.honest.values())
    lines = [f"# {title}", "", f"Produced by: `{command}`", ""]
    lines += [
        "## Attacks: recall at the point of harm",
        "",
        "| attack | events | harm events | caught | recall | at stake | saved |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in sorted(board.attacks.items()):
        mark = "" if s.recall >= RECALL_TARGET else " ⚠"
        lines.append(
            f"| {name} | {s.events:,} | {s.harm_events:,} | {s.caught:,} | "
            f"{s.recall:.1%}{mark} | {s.at_stake:,.2f} | {s.saved:,.2f} |"
        )
    saved = sum(s.saved for s in board.attacks.values())
    stake = sum(s.at_stake for s in board.attacks.values())
    lines += [
        "",
        f"Money saved: **{saved:,.2f}** of {stake:,.2f} at stake "
        f"(caught = denied or challenged; ⚠ = below the {RECALL_TARGET:.0%} target).",
        "",
    ]
    lines += [
        "## Honest shoppers: friction",
        "",
        f"{honest:,} honest events.",
        "",
        "| outcome | share | budget |",
        "|---|---:|---:|",
    ]
    budgets = {
        "deny": f"≤ {DENY_BUDGET:.1%}",
        "challenge": f"≤ {FRICTION_BUDGET:.0%} with review",
        "review": f"≤ {FRICTION_BUDGET:.0%} with challenge",
        "allow": "",
    }
    for outcome in OUTCOMES:
        lines.append(f"| {outcome} | {friction[outcome]:.3%} | {budgets[outcome]} |")
    if merchants:
        lines += _merchants(merchants)
    if chart:
        lines += ["", "## Outcomes over time", "", f"![outcomes over time]({chart})"]
    return "\n".join(lines) + "\n"


def _merchants(rows: list[MerchantHealth], top: int = 8) -> list[str]:
    """The merchants with the worst loss rate: harm let through is labelled as confirmed
    loss (as chargebacks and audits would later), then read back as merchant health."""
    worst = sorted(rows, key=lambda h: (-(h.loss_rate or 0.0), -h.decided))[:top]
    lines = [
        "",
        f"## Merchant health (worst {len(worst)} of {len(rows)} by loss rate)",
        "",
        "Missed harm events are labelled as confirmed loss; the table is "
        "`Engine.merchant_health` (also `shopguard report merchants`).",
        "",
        "| merchant | decided | denied | challenged | charged | blocked | loss | loss rate |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for h in worst:
        rate = "-" if h.loss_rate is None else f"{h.loss_rate:.3%}"
        lines.append(
            f"| {h.merchant} | {h.decided:,} | {h.denied:,} | {h.challenged:,} | "
            f"{h.gross_value:,.2f} | {h.blocked_value:,.2f} | {h.confirmed_loss:,.2f} | {rate} |"
        )
    return lines


def chart(board: Scoreboard, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buckets = sorted(board.timeline)
    hours = [(b - buckets[0]) * board.bucket_s / 3600 for b in buckets]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6), sharex=True)
    for outcome, colour in zip(OUTCOMES, ("#9ecae1", "#fdd49e", "#fc8d59", "#d7301f"), strict=True):
        top.plot(hours, [board.timeline[b][outcome] for b in buckets], label=outcome, color=colour)
        bottom.plot(
            hours,
            [board.timeline[b]["attack:" + outcome] for b in buckets],
            label=outcome,
            color=colour,
        )
    top.set_title("honest events per hour by outcome")
    bottom.set_title("attack events per hour by outcome")
    top.set_yscale("symlog")
    bottom.set_yscale("symlog")
    bottom.set_xlabel("hours since start")
    top.legend(loc="upper right", ncols=4, fontsize="small")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
