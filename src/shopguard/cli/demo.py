"""`shopguard demo`: the whole product on this machine in one command.

The server runs as `shopguard serve` runs it (production settings, live event time) on
the retail pack; a console user and an admin key are made for the default tenant; then
simulated traffic with every attack arrives over the HTTP API at its own pace, stamped
with the clock, so the console's live page, review queue and charts fill as they would on
a shop's first day. The honest traffic of the three hours before (and the aged rings'
history) lies in part further back than a live server accepts: that part is backfilled
first, the way `shopguard replay` loads history, so the site has usual rates and known
devices and IPs; the last hour is sent over the API at once.
"""

from __future__ import annotations

import contextlib
import secrets
import shutil
import socket
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import msgspec
import typer

from shopguard.cli.app import ConfigOpt, app, err, guard, settings_for

if TYPE_CHECKING:
    from shopguard.settings import Settings
    from shopguard.simulate.live import Timed

PREFERRED_PORT = 8080
MARGIN = 600.0  # seconds kept between the backfill's newest event and max_event_behind
REPORT_EVERY = 30.0  # seconds between the terminal's tallies
USER = "demo"


@app.command()
def demo(
    minutes: Annotated[
        float, typer.Option(help="How long the traffic runs; the server stops after it.")
    ] = 10,
    rate: Annotated[float, typer.Option(help="Honest events per second (attacks add theirs).")] = (
        5
    ),
    port: Annotated[
        int | None, typer.Option(help="Port (default: 8080 if free, else any free one).")
    ] = None,
    host: Annotated[str, typer.Option(help="Listen address.")] = "127.0.0.1",
    data_dir: Annotated[
        Path | None,
        typer.Option(
            "--data-dir",
            help="Keep the demo's journal, keys and users here (default: a temporary folder, "
            "removed when the demo ends).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed of the traffic.")] = 7,
    config: ConfigOpt = None,
) -> None:
    """See ShopGuard work: serve the API and console, feed them live traffic with every
    attack, and print where to sign in.

    Within a minute or two the console shows live decisions (Live), held cases grouped by
    ring, campaign or rule (Review), decisions per minute and the rules that fire
    (Overview). Honest shoppers arrive at --rate events a second; each of the sixteen
    attacks (wool party, SMS pumping, credential stuffing, card testing, crawlers, cabinet
    theft, scalpers...) starts once in the first two minutes and keeps its own pace. The
    printed API key (tenant `default`) takes your own events too: try the curl line.
    Ctrl-C stops it. The site has an hour and a half of past at the same rate; what of it a
    live server would refuse for its age is backfilled before the console opens (seconds at
    the default rate, longer at a higher one).

    Example: shopguard demo

    Example: shopguard demo --minutes 30 --rate 10 --port 9000 --data-dir ./shopguard-demo
    """

    def run() -> None:
        from shopguard.errors import ConfigError

        if minutes <= 0 or rate <= 0:
            raise ConfigError("--minutes and --rate must be above 0")
        listen = _port(host, port)
        folder = data_dir or Path(tempfile.mkdtemp(prefix="shopguard-demo-"))
        try:
            _demo(
                settings_for(config, folder, "retail").serving(), host, listen, minutes, rate, seed
            )
        except KeyboardInterrupt:  # Ctrl-C before the server was up
            err.print("stopped before the server started")
            raise typer.Exit(130) from None
        finally:
            if data_dir is None:
                shutil.rmtree(folder, ignore_errors=True)
                err.print(f"removed the demo's data directory {folder}", highlight=False)

    guard(run)


def _port(host: str, port: int | None) -> int:
    """The port to listen on: the one asked for (an error if taken), else 8080, else any."""
    from shopguard.errors import ConfigError

    for candidate in (port,) if port is not None else (PREFERRED_PORT, 0):
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
            try:
                probe.bind((host, candidate))
            except OSError as exc:
                if port is not None:
                    raise ConfigError(
                        f"port {port} on {host} is busy ({exc.strerror}): pick another with --port"
                    ) from None
                continue
            return int(probe.getsockname()[1])
    raise ConfigError(f"no free port on {host}")  # pragma: no cover (port 0 always binds)


def _demo(settings: Settings, host: str, port: int, minutes: float, rate: float, seed: int) -> None:
    from shopguard.cli.serve import base_url, http_server
    from shopguard.private import write_secret
    from shopguard.registries import open_keys, open_users
    from shopguard.simulate.live import live

    tenant = settings.default_tenant
    with err.status("simulating the traffic"):
        traffic = live(minutes * 60, rate, seed)
    oldest = -(settings.event_skew[1] - MARGIN)
    past = [item for item in traffic if item.offset < oldest]
    _backfill(settings, past, tenant)
    keys = open_keys(settings)
    key, secret = keys.create(tenant, ["admin"], "shopguard demo")
    settings.admin_key_path.unlink(missing_ok=True)
    write_secret(settings.admin_key_path, secret + "\n")
    password = secrets.token_urlsafe(12)
    users = open_users(settings)
    users.create(USER, tenant, "admin", password)
    users.close()
    server = http_server(settings, keys, host, port, hint="sign in below")
    feed = Feed(
        server, base_url(host, port), secret, tenant, traffic[len(past) :], settings.max_batch
    )
    banner = [
        f"ShopGuard demo: the retail pack under every attack for {minutes:g} minute"
        f"{'' if minutes == 1 else 's'}"
        f" (about {rate:g} honest events/s); Ctrl-C stops it.",
        "",
        f"  console   {feed.base}/console",
        f"  user      {USER}",
        f"  password  {password}",
        f"  API key   {secret}",
        f"            (key {key.id}, tenant {tenant}, admin; also in {settings.admin_key_path})",
        "",
        "  Decide an event of your own (it shows up on the console's Live page):",
        f"  curl -s -H 'Authorization: Bearer {secret}' {feed.base}/v1/decisions \\",
        '    -d \'{"type":"sms.send","event_id":"try-1","tenant":"' + tenant + '",'
        '"time":"\'$(date -u +%Y-%m-%dT%H:%M:%SZ)\'","phone":"13812345678","ip":"1.2.3.4"}\'',
        "",
    ]
    worker = threading.Thread(target=feed.run, args=(banner,), daemon=True)
    worker.start()
    with contextlib.suppress(KeyboardInterrupt):  # uvicorn re-raises the Ctrl-C it stopped on
        server.run()
    feed.stop.set()
    worker.join(10)
    err.print(f"stopped after {feed.summary()}", highlight=False, soft_wrap=True)


def _backfill(settings: Settings, past: list[Timed], tenant: str) -> None:
    """Decide the history a live server would refuse for its age, as `shopguard replay`
    does: by event time, into the same journal the server then loads."""
    from shopguard.engine import Engine

    engine = Engine.from_config(settings=msgspec.structs.replace(settings, event_time="replay"))
    now = time.time()
    run = secrets.token_hex(3)
    try:
        with err.status(f"backfilling {len(past):,} events older than the live window"):
            for start in range(0, len(past), 1000):
                chunk = past[start : start + 1000]
                engine.decide_many(
                    [
                        _event(item, f"past{run}-{start + i}", tenant, now)
                        for i, item in enumerate(chunk)
                    ]
                )
    finally:
        engine.close()


def _event(item: Timed, event_id: str, tenant: str, start: float) -> bytes:
    when = datetime.fromtimestamp(start + item.offset, UTC)
    return msgspec.json.encode(
        {**item.fields, "event_id": event_id, "tenant": tenant, "time": when}
    )


class Feed:
    """Sends the traffic over the API when each event's time comes, in batches of what is
    due, and tallies the outcomes."""

    def __init__(
        self, server: Any, base: str, secret: str, tenant: str, traffic: list[Timed], max_batch: int
    ) -> None:
        self.server, self.base, self.tenant, self.traffic = server, base, tenant, traffic
        self.headers = {"Authorization": f"Bearer {secret}", "Content-Type": "application/json"}
        self.max_batch = max_batch
        self.outcomes: Counter[str] = Counter()
        self.stop = threading.Event()
        self.run_id = secrets.token_hex(3)

    def run(self, banner: list[str]) -> None:
        """Wait for the server, print the banner, send the traffic; then (or on any
        failure here, so the demo never outlives its traffic) stop the server."""
        import httpx

        try:
            while not self.server.started:
                if self.stop.wait(0.05) or self.server.should_exit:
                    return
            typer.echo("\n".join(banner))
            self._feed(httpx.Client(base_url=self.base, headers=self.headers, timeout=30))
        except (httpx.HTTPError, OSError) as exc:
            if not (self.stop.is_set() or self.server.should_exit):  # not a Ctrl-C
                err.print(f"[red]error:[/red] the demo's traffic stopped: {exc}", highlight=False)
        finally:
            self.server.should_exit = True  # the traffic is over: so is the demo

    def _feed(self, client: Any) -> None:
        start = time.time()
        told, sent = start, 0
        with client:
            while sent < len(self.traffic) and not self.stop.is_set():
                now = time.time()
                due = sent
                while (
                    due < len(self.traffic)
                    and start + self.traffic[due].offset <= now
                    and due - sent < self.max_batch
                ):
                    due += 1
                if due == sent:
                    self.stop.wait(min(0.25, start + self.traffic[due].offset - now))
                    continue
                self._send(client, sent, due, start)
                sent = due
                if now - told >= REPORT_EVERY:
                    told = now
                    clock = datetime.now().strftime("%H:%M:%S")
                    err.print(f"{clock}  {self.summary()}", soft_wrap=True)

    def _send(self, client: Any, first: int, end: int, start: float) -> None:
        body = (
            b"["
            + b",".join(
                _event(self.traffic[i], f"demo{self.run_id}-{i}", self.tenant, start)
                for i in range(first, end)
            )
            + b"]"
        )
        answer = client.post("/v1/decisions:batch", content=body)
        if answer.status_code != 200:
            err.print(f"[red]refused[/red] a batch: {answer.text[:300]}", highlight=False)
            return
        for decision in answer.json()["decisions"]:
            self.outcomes[decision["outcome"]] += 1

    def summary(self) -> str:
        total = sum(self.outcomes.values())
        parts = " · ".join(f"{name} {self.outcomes[name]:,}" for name in OUTCOMES)
        return f"{total:,} decisions: {parts}"


OUTCOMES = ("allow", "review", "challenge", "deny")
