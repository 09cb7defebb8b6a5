"""A backtest's report as markdown (``--out report.md``, the console shows the same)."""

from __future__ import annotations

from typing import Any


def _share(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"


def _points(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:+.2f} pt"


def markdown(report: dict[str, Any], loop_note: str) -> str:
    lines = [
        f"# Backtest: {report['candidate']} against {report['champion']}",
        "",
        f"{report['events']:,} events, {report['changed']:,} decisions change."
        f" This backtest is {loop_note}.",
        "",
        "## Changes (champion -> candidate)",
        "",
        "| champion | candidate | events |",
        "|---|---|---:|",
        *[
            f"| {t['champion']} | {t['candidate']} | {t['events']:,} |"
            for t in report["transitions"]
        ],
        "",
        "## By rule",
        "",
        "| rule | champion hits | candidate hits | changes it adds | changes it removes |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {r['rule']} | {r['champion_hits']:,} | {r['candidate_hits']:,}"
            f" | {r['changes_added']:,} | {r['changes_removed']:,} |"
            for r in report["rules"]
        ],
    ]
    labels = report.get("labels")
    if labels:
        a, b, d = labels["champion"], labels["candidate"], labels["delta"]
        lines += [
            "",
            "## On labelled events",
            "",
            "| | champion | candidate | delta |",
            "|---|---:|---:|---:|",
            f"| recall (denied or challenged) | {_share(a['recall'])} | {_share(b['recall'])}"
            f" | {_points(d['recall'])} |",
            f"| fraud flagged (not allowed) | {_share(a['fraud_flagged'])}"
            f" | {_share(b['fraud_flagged'])} | {_points(d['fraud_flagged'])} |",
            f"| honest friction (not allowed) | {_share(a['honest_friction'])}"
            f" | {_share(b['honest_friction'])} | {_points(d['honest_friction'])} |",
            *[
                f"| honest {o} | {_share(a['honest_share'][o])} | {_share(b['honest_share'][o])}"
                f" | {_points(b['honest_share'][o] - a['honest_share'][o])} |"
                for o in ("review", "challenge", "deny")
            ],
            "",
            f"{a['positives']:,} fraud and {a['honest_events']:,} honest events.",
        ]
    lines += ["", "## Sample of changed events", ""]
    for s in report["samples"]:
        label = f", labelled {s['label']}" if s["label"] else ""
        lines.append(
            f"- `{s['event_id']}` ({s['type']}{label}): {s['champion']} -> {s['candidate']};"
            f" champion: {'; '.join(s['champion_reasons']) or 'no rule'};"
            f" candidate: {'; '.join(s['candidate_reasons']) or 'no rule'}"
        )
    return "\n".join(lines) + "\n"
