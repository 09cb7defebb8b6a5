"""The backtest pages (operator admins): a candidate ruleset version against the champion
over a window of recent journaled decisions or an uploaded JSONL file, run in a background
thread on an engine of its own (memory only: the live engine and journal are only read),
then the changes table, the rules behind them and a sample with reasons.

Bounded: the upload by the server's body limit, the journal by ``MAX_RECORDS`` re-decided
(from ``WARMUP`` before the window, so feature windows are as they were); a few jobs are
kept, the oldest dropped."""

from __future__ import annotations

import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from shopguard.backtest import OPEN_LOOP, backtest_engine, candidate_rules, over_file, over_journal
from shopguard.backtest.run import journal_size, newest_time
from shopguard.console.users import User
from shopguard.console.web import engine_of, page, render
from shopguard.errors import ShopGuardError
from shopguard.replay import iter_events
from shopguard.rules.versions import Rulesets

MAX_RECORDS = 1_000_000  # journal records one console backtest may re-decide
WARMUP = 30 * 86400.0  # history re-decided before the window: the longest feature window
KEPT = 5  # finished jobs kept per server


@dataclass
class Job:
    number: int
    candidate: str
    source: str
    started: float
    done: int = 0
    total: int | None = None
    report: dict[str, Any] | None = None
    error: str = ""
    finished: bool = False

    def advance(self, n: int) -> None:
        self.done += n


def _jobs(request: Request) -> dict[int, Job]:
    state = request.app.state
    found: dict[int, Job] | None = getattr(state, "backtests", None)
    if found is None:
        found = state.backtests = {}
    return found


@page(admin=True)
async def backtests(request: Request, user: User) -> Response:
    store: Rulesets = request.app.state.rulesets
    jobs = _jobs(request)
    message = ""
    if request.method == "POST":
        form = await request.form()
        upload = form.get("file")
        data = await upload.read() if isinstance(upload, UploadFile) else b""
        try:
            # compiling the candidate and counting the journal take tenths of a second:
            # off the event loop, as ruleset changes are (rules/swap.py)
            number, hours = str(form.get("number", "")), str(form.get("hours", ""))
            state = request.app.state  # numbered here, on the loop: one at a time
            state.backtests_run = serial = getattr(state, "backtests_run", 0) + 1
            job = await run_in_threadpool(_start, request, serial, number, hours, data)
        except ShopGuardError as exc:
            message = f"refused: {exc}"
        else:
            jobs[job.number] = job
            for old in sorted(jobs)[:-KEPT]:
                if jobs[old].finished:
                    del jobs[old]
            return RedirectResponse(f"/console/backtests/{job.number}", 303)
    response = render(
        request,
        "backtests.html",
        user,
        versions=store.versions(),
        standing=store.standing(),
        jobs=sorted(jobs.values(), key=lambda j: -j.number),
        message=message,
    )
    response.status_code = 400 if message else 200
    return response


@page(admin=True)
async def backtest(request: Request, user: User) -> Response:
    asked = request.path_params["number"]
    job = _jobs(request).get(int(asked)) if asked.isdecimal() and len(asked) < 10 else None
    if job is None:
        return render(request, "missing.html", user, what="backtest")
    return render(request, "backtest.html", user, job=job, note=OPEN_LOOP)


def _start(request: Request, serial: int, number: str, hours: str, data: bytes) -> Job:
    """Check what can be checked at once (the version, the window), then run in a thread."""
    engine = engine_of(request)
    store: Rulesets = request.app.state.rulesets
    candidate = candidate_rules(engine.pack, number, store)  # ConfigError names the rule
    champion = engine.rules
    settings, pack = engine.settings, engine.pack
    if data:
        source = f"uploaded file ({len(data):,} bytes)"
        total = None
    else:
        if settings.decision_log != "sqlite":
            raise ShopGuardError("no journal to read: upload a file of events instead")
        span = float(hours) * 3600 if hours.replace(".", "", 1).isdecimal() else 0.0
        if not 0 < span <= 90 * 86400:
            raise ShopGuardError("a window of 0 to 2160 hours (90 days)")
        newest = newest_time(settings.journal_path)
        if newest is None:
            raise ShopGuardError("the journal holds no decisions yet")
        since, until = newest - span, newest
        total = journal_size(settings.journal_path, until, since - WARMUP)
        if total > MAX_RECORDS:
            raise ShopGuardError(
                f"{total:,} journal records to re-decide, over {MAX_RECORDS:,}: use"
                " `shopguard backtest --data-dir` for that much"
            )
        source = f"the journal's last {hours} h"
    job = Job(serial, candidate.version, source, time.time(), total=total)

    def run() -> None:
        try:
            bt = backtest_engine(settings, pack, champion, candidate)
            try:
                if data:
                    with tempfile.TemporaryDirectory() as tmp:
                        path = Path(tmp) / "events.jsonl"
                        path.write_bytes(data)
                        comparison = over_file(bt, iter_events(path), advance=job.advance)
                else:
                    comparison = over_journal(
                        bt, settings.journal_path, since, until, job.advance, start=since - WARMUP
                    )
            finally:
                bt.close()
            job.report = comparison.report()
        except Exception as exc:  # shown on the job's page; the server goes on
            job.error = f"{type(exc).__name__}: {exc}"
        job.finished = True

    threading.Thread(target=run, name=f"backtest-{job.number}", daemon=True).start()
    return job


def routes() -> list[BaseRoute]:
    return [
        Route("/console/backtests", backtests, methods=["GET", "POST"]),
        Route("/console/backtests/{number}", backtest),
    ]
