"""One page over several seeds: each target met on every seed or not, per attack and
per seed, so a figure that holds on one seed and not another shows."""

from __future__ import annotations

from shopguard.evaluate.metrics import Scoreboard
from shopguard.evaluate.report import STOPPED_TARGET, recall_target, targets

# The split: rules and thresholds are tuned on these seeds only; the held-out seeds are
# for reports and nobody looks at their misses to tune (docs/evaluation/README.md).
TUNING_SEEDS = (1, 2, 3)
# 101-103 were looked at once (issue 14, an earlier rule set) and then the pack was tuned
# further: they are spent, neither tuning nor held out. Pick new ones the same way.
HELD_OUT_SEEDS = (104, 105, 106, 107, 108, 109, 110)


def parse_seeds(text: str) -> list[int]:
    """``101,102,103``, ``101-105`` or a mix of both."""
    seeds: list[int] = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        if not first:
            raise ValueError(f"not a seed list: {text!r} (e.g. 101,102 or 101-105)")
        seeds += range(int(first), int(last or first) + 1)
    return seeds


def seed_kind(seeds: list[int]) -> str:
    if all(seed in HELD_OUT_SEEDS for seed in seeds):
        return "held-out seeds"
    if all(seed in TUNING_SEEDS for seed in seeds):
        return "tuning seeds"
    return "seeds outside the documented split"


def summary(boards: dict[int, Scoreboard], title: str, command: str, careful: bool) -> str:
    seeds = sorted(boards)
    want = recall_target(careful)
    head = " | ".join(f"seed {seed}" for seed in seeds)
    lines = [f"# {title}", "", f"Produced by: `{command}`", ""]
    lines += [
        f"{'Careful' if careful else 'Default'} traffic on {seed_kind(seeds)} "
        f"({', '.join(map(str, seeds))}); per-seed reports in `seed-<n>/report.md`.",
        "",
        "## Targets on every seed",
        "",
        f"| target | {head} | met on all |",
        "|---|" + "---:|" * len(seeds) + ":---:|",
    ]
    checks = {seed: targets(boards[seed], careful) for seed in seeds}
    for k, (what, _, _) in enumerate(checks[seeds[0]]):
        cells = [checks[seed][k] for seed in seeds]
        met = all(c[2] for c in cells)
        got = " | ".join(c[1] + ("" if c[2] else " ⚠") for c in cells)
        lines.append(f"| {what} | {got} | {'yes' if met else '**no**'} |")
    lines += [
        "",
        "## Recall at the point of harm, and ring accounts stopped before their second harm",
        "",
        f"Recall per seed (⚠ below {want:.0%}), then the lowest share of accounts stopped "
        f"early over the seeds (⚠ below {STOPPED_TARGET:.0%}; - without accounts).",
        "",
        f"| attack | {head} | lowest recall | lowest stopped early |",
        "|---|" + "---:|" * (len(seeds) + 2),
    ]
    names = sorted({name for board in boards.values() for name in board.attacks})
    for name in names:
        scores = [boards[seed].attacks.get(name) for seed in seeds]
        recalls = [s.recall for s in scores if s is not None and s.harm_events]
        early = [s.stopped_early for s in scores if s is not None and s.stopped_early is not None]
        row = " | ".join(
            "-" if s is None or not s.harm_events else f"{s.recall:.1%}" + _mark(s.recall, want)
            for s in scores
        )
        low = min(recalls, default=None)
        stop = min(early, default=None)
        lines.append(f"| {name} | {row} | {_cell(low, want)} | {_cell(stop, STOPPED_TARGET)} |")
    return "\n".join(lines) + "\n"


def _mark(value: float, target: float) -> str:
    return "" if value >= target else " ⚠"


def _cell(value: float | None, target: float) -> str:
    return "-" if value is None else f"{value:.1%}" + _mark(value, target)
