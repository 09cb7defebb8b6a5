"""The detection report: a Markdown page and a PNG chart of outcomes over time."""

from __future__ import annotations

from pathlib import Path

from shopguard.evaluate.metrics import OUTCOMES, Scoreboard
from shopguard.labels import MerchantHealth

RECALL_TARGET = 0.95  # default traffic, per attack
CAREFUL_RECALL_TARGET = 0.90  # careful traffic on held-out seeds, per attack
STOPPED_TARGET = 0.90  # ring accounts stopped before their second harm event
DENY_BUDGET, FRICTION_BUDGET = 0.001, 0.01
ACCOUNT_DENY_BUDGET = 0.005  # honest accounts ever denied


def recall_target(careful: bool) -> float:
    return CAREFUL_RECALL_TARGET if careful else RECALL_TARGET


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def targets(board: Scoreboard, careful: bool) -> list[tuple[str, str, bool]]:
    """Each target of the evaluation: what it asks, what was measured, whether it is met."""
    want = recall_target(careful)
    scores = board.attacks.values()
    recall = min((s.recall for s in scores), default=1.0)
    stopped = min((s.stopped_early for s in scores if s.stopped_early is not None), default=1.0)
    friction = board.friction()
    denied, bothered = friction["deny"], friction["review"] + friction["challenge"]
    accounts = board.honest_accounts_denied()
    return [
        (f"recall ≥ {want:.0%} for every attack", f"lowest {recall:.1%}", recall >= want),
        (
            f"≥ {STOPPED_TARGET:.0%} of ring accounts stopped before their second harm",
            f"lowest {stopped:.1%}",
            stopped >= STOPPED_TARGET,
        ),
        (f"honest events denied ≤ {DENY_BUDGET:.1%}", f"{denied:.3%}", denied <= DENY_BUDGET),
        (
            f"honest events reviewed or challenged ≤ {FRICTION_BUDGET:.0%}",
            f"{bothered:.3%}",
            bothered <= FRICTION_BUDGET,
        ),
        (
            f"honest accounts ever denied ≤ {ACCOUNT_DENY_BUDGET:.1%}",
            f"{accounts:.3%}",
            accounts <= ACCOUNT_DENY_BUDGET,
        ),
    ]


def markdown(
    board: Scoreboard,
    title: str,
    command: str,
    chart: str | None,
    merchants: list[MerchantHealth] | None = None,
    careful: bool = False,
) -> str:
    friction = board.friction()
    honest = sum(board.honest.values())
    want = recall_target(careful)
    lines = [f"# {title}", "", f"Produced by: `{command}`", ""]
    lines += ["## Targets", "", "| target | measured | met |", "|---|---:|:---:|"]
    for what, got, met in targets(board, careful):
        lines.append(f"| {what} | {got} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Attacks: recall at the point of harm",
        "",
        "| attack | events | harm events | caught | recall | accounts | stopped before "
        "2nd harm | at stake | saved |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, s in sorted(board.attacks.items()):
        mark = "" if s.recall >= want else " ⚠"
        early = s.stopped_early
        flag = "" if early is None or early >= STOPPED_TARGET else " ⚠"
        lines.append(
            f"| {name} | {s.events:,} | {s.harm_events:,} | {s.caught:,} | "
            f"{s.recall:.1%}{mark} | {s.accounts:,} | {_share(early)}{flag} | "
            f"{s.at_stake:,.2f} | {s.saved:,.2f} |"
        )
    saved = sum(s.saved for s in board.attacks.values())
    stake = sum(s.at_stake for s in board.attacks.values())
    lines += [
        "",
        f"Money saved: **{saved:,.2f}** of {stake:,.2f} at stake "
        f"(caught = denied or challenged; ⚠ = below the {want:.0%} recall target or the "
        f"{STOPPED_TARGET:.0%} early-stop target; accounts: those that reached the point of "
        "harm, stopped before 2nd harm: at most one of their harm events let through; - for "
        "attacks without accounts).",
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
    lines += [
        "",
        f"Honest accounts ever denied: **{board.honest_accounts_denied():.3%}** "
        f"({len(board.honest_denied):,} of {len(board.honest_accounts):,}; "
        f"budget ≤ {ACCOUNT_DENY_BUDGET:.1%}).",
    ]
    lines += _friction_by_type(board)
    if merchants:
        lines += _merchants(merchants)
    if chart:
        lines += ["", "## Outcomes over time", "", f"![outcomes over time]({chart})"]
    return "\n".join(lines) + "\n"


def _friction_by_type(board: Scoreboard) -> list[str]:
    """Where honest friction falls: the event types with honest events not allowed."""
    kinds = sorted({kind for kind, outcome in board.honest_by_type if outcome != "allow"})
    if not kinds:
        return []
    lines = [
        "",
        "Honest events not allowed, by event type:",
        "",
        "| event type | honest events | review | challenge | deny |",
        "|---|---:|---:|---:|---:|",
    ]
    for kind in kinds:
        n = sum(board.honest_by_type[kind, outcome] for outcome in OUTCOMES)
        cells = " | ".join(f"{board.honest_by_type[kind, o]:,}" for o in OUTCOMES[1:])
        lines.append(f"| {kind} | {n:,} | {cells} |")
    return lines


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
