"""`bench/chaos.py`'s checks and verdicts: the journal against what was acknowledged,
`audit verify`, the server's log; each target met or not, with the figures behind it;
the table on stderr."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from harness import cli

SLOW = ("slow_login_body", "slow_login_headers", "slow_decide_body")
FAULTS = (*SLOW, "db_locked", "disk_full")


def journal_check(db: Path, tenant: str, acked: list[str]) -> dict[str, Any]:
    """Which acknowledged event ids the journal lacks (read with the server stopped)."""
    try:
        with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)) as journal:
            query = "SELECT event_id FROM decisions WHERE tenant = ?"
            stored = {row[0] for row in journal.execute(query, (tenant,))}
    except sqlite3.Error as exc:
        return {"acknowledged": len(acked), "checked": False, "error": str(exc)}
    missing = [e for e in acked if e not in stored]
    return {"acknowledged": len(acked), "checked": True, "missing": len(missing)} | (
        {"missing_sample": missing[:5]} if missing else {}
    )


def verify(data: Path, env: dict[str, str]) -> dict[str, Any]:
    try:
        done = subprocess.run(
            cli("audit", "verify", "--data-dir", str(data)),
            env={**env, "COLUMNS": "200", "NO_COLOR": "1"},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return {"clean": False, "rc": None, "output": "timed out after 300 s"}
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return {"clean": done.returncode == 0, "rc": done.returncode, "output": lines[-12:]}


def log_size(log: Path | None) -> int:
    return log.stat().st_size if log else 0


def log_growth(log: Path | None, since: int) -> dict[str, int]:
    """What the server wrote since ``since`` (a flood of tracebacks is a finding)."""
    if log is None:
        return {}
    with log.open("rb") as out:
        out.seek(since)
        text = out.read()
    return {"bytes": len(text), "tracebacks": text.count(b"Traceback (most recent call last)")}


def phases(result: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, phase) of every phase that ran, on either server."""
    for server in ("main", "tmpfs"):
        for name, phase in result.get(server, {}).items():
            if name in (*FAULTS, "baseline") and isinstance(phase, dict):
                yield name, phase


def spans(phase: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, span in phase.items():
        if isinstance(span, dict) and "decisions_per_s" in span:
            yield name, span


def failures(statuses: dict[str, int]) -> int:
    """Answers 5xx other than 503 (the one a server may send on purpose, with Retry-After)."""
    return sum(n for s, n in statuses.items() if s.isdigit() and s[0] == "5" and s != "503")


def fault_free(ran: dict[str, dict[str, Any]]) -> float:
    """The fault-free rate: the median of the baseline and of each phase's span before its
    fault, so that a neighbour's load on a shared host sways it less than one span would."""
    rates = sorted(
        span["decisions_per_s"]
        for phase in ran.values()
        for name, span in spans(phase)
        if name in ("fault-free", "before")
    )
    return rates[len(rates) // 2] if rates else 0


def targets(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with ``met`` (None where its phase did not run) and what decided it;
    also writes each span's share of the fault-free rate into ``result``."""
    ran = dict(phases(result))
    base = result["fault_free_per_s"] = fault_free(ran)
    for phase in ran.values():
        for _, span in spans(phase):
            span["share_of_fault_free"] = round(span["decisions_per_s"] / base, 3) if base else None
    slow = {n: ran[n]["fault"] for n in SLOW if "fault" in ran.get(n, {})}
    shares = {n: s["share_of_fault_free"] for n, s in slow.items()}
    p99 = {n: s["healthz"]["p99_ms"] for n, s in slow.items()}
    errors = {
        f"{name}.{span_name}": failures(span["statuses"])
        for name, phase in ran.items()
        if name in FAULTS
        for span_name, span in spans(phase)
    }
    for name in SLOW:
        if name in ran:
            errors[f"{name}.slow_sockets"] = failures(ran[name]["slow_sockets"]["answers"])
    names = [s for s in ("main", "tmpfs") if "journal" in result.get(s, {})]
    servers = [result[s] for s in names]
    journals = [s["journal"] for s in servers]
    lookups = [s.get("lookup_sample", {}) for s in servers]
    readiness = {
        n: _readiness(ran[n]) for n in ("disk_full", "db_locked") if "fault" in ran.get(n, {})
    }
    n = result["settings"]["slow_sockets"]

    def verdict(name: str, met: bool | None, detail: object) -> dict[str, Any]:
        return {"target": name, "met": met, "detail": detail}

    lost = [j for j in journals if not j.get("checked") or j.get("missing")]
    not_found = [lk for lk in lookups if set(lk) - {"200"}]
    return [
        verdict(
            f"{n} slow sockets: decisions >= 80 % of the fault-free rate",
            all(v is not None and v >= 0.8 for v in shares.values()) if shares else None,
            shares,
        ),
        verdict(
            f"{n} slow sockets: /healthz p99 <= 100 ms",
            all(v is not None and v <= 100 for v in p99.values()) if p99 else None,
            p99,
        ),
        verdict("no 500 (no 5xx but 503) in any fault", not any(errors.values()), errors),
        verdict(
            "nothing acknowledged is lost (journal, and a GET of a sample)",
            not lost and not not_found if servers else None,
            {"journal": journals, "lookup": lookups},
        ),
        verdict(
            "audit verify clean after recovery",
            all(s["verify"]["clean"] for s in servers) if servers else None,
            {name: result[name]["verify"]["clean"] for name in names},
        ),
        verdict(
            "full disk / locked db: /readyz not ready during the fault, ready after",
            all(r["not_ready_during"] and r["ready_after"] for r in readiness.values())
            if readiness
            else None,
            readiness,
        ),
    ]


def _readiness(phase: dict[str, Any]) -> dict[str, bool]:
    during = phase["fault"]["readyz"]
    after = phase.get("recovery", {}).get("readyz_last") or ""
    return {
        "not_ready_during": any(not state.startswith("200") for state in during),
        "ready_after": after.startswith("200"),
    }


def print_report(result: dict[str, Any]) -> None:
    console = Console(stderr=True, width=160)
    table = Table(title="ShopGuard chaos (server on CPU 0, harness on CPU 1)")
    for col in ("phase", "span", "decisions/s", "share", "answers", "healthz p50/p99 ms", "readyz"):
        table.add_column(col)
    for name, phase in phases(result):
        for span_name, span in spans(phase):
            if span_name == "warm-up":
                continue
            h = span["healthz"]
            share = span.get("share_of_fault_free")
            table.add_row(
                name,
                span_name,
                f"{span['decisions_per_s']:,.0f}",
                "" if share is None else f"{share:.0%}",
                json.dumps(span["statuses"]),
                f"{h['p50_ms']} / {h['p99_ms']}"
                + (f", {h['failed']} failed" if h["failed"] else ""),
                json.dumps(span["readyz"]),
            )
        if "slow_sockets" in phase:
            s = phase["slow_sockets"]
            opened = "{at_start}->{at_end}".format(**phase["slow_sockets_open"])
            table.add_row("", "slow sockets", f"open {opened}", "", json.dumps(s["answers"]))
        if "settled_after_s" in phase:
            log = phase["server_log"]
            settled = phase["settled_after_s"]
            table.add_row(
                "",
                "after",
                "not settled" if settled is None else f"settled {settled} s",
                "",
                f"server log +{log['bytes']:,} B, {log['tracebacks']:,} tracebacks",
            )
    console.print(table)
    console.print(
        f"fault-free rate {result['fault_free_per_s']:,.0f} decisions/s (median of the "
        "baseline and the spans before each fault); share = decisions/s / that"
    )
    for name, phase in phases(result):
        if "error" in phase:
            console.print(f"[red]{name} did not complete: {phase['error']}[/red]")
    for why in ("skipped", "error"):
        if why in result.get("disk_full", {}):
            console.print(f"[yellow]full-disk phase {why}: {result['disk_full'][why]}[/yellow]")
    for server in ("main", "tmpfs"):
        if "journal" in result.get(server, {}):
            s = result[server]
            problems = [line for line in s["verify"]["output"] if "│" in line and "ok" not in line]
            verdict = "clean" if s["verify"]["clean"] else problems or s["verify"]["output"]
            console.print(
                f"{server} server: journal {s['journal']}, GET of acknowledged ids "
                f"{s.get('lookup_sample')}, audit verify {verdict}"
            )
    verdicts = Table(title="targets")
    for col in ("target", "met"):
        verdicts.add_column(col)
    for t in result["targets"]:
        met = {True: "[green]met[/green]", False: "[red]not met[/red]", None: "not run"}
        verdicts.add_row(t["target"], met[t["met"]])
    console.print(verdicts)
