"""``shopguard serve --workers N``: N worker processes serving one port, each its own
engine, all sharing Redis (feature state, dedupe claims, lists) and PostgreSQL (journal,
registries).

Each worker binds its own listening socket with ``SO_REUSEPORT``, so the kernel spreads
new connections over the workers evenly (by a hash of the connection's addresses) and a
worker that dies takes only its own connections with it. The supervisor (this parent
process) starts each worker as a fresh interpreter (``python -m shopguard.api.workers``:
no forked locks or connections), waits until every one serves, and replaces any that
exits without being told to (a SIGKILL, an out-of-memory kill) under the same worker number,
so it keeps its journal writer name. SIGTERM or SIGINT stop every worker gracefully.

A state store or journal that lives in one process (``memory`` state, a ``sqlite`` or
``memory`` journal) cannot be shared: several workers are refused at start then.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from shopguard.errors import ConfigError

if TYPE_CHECKING:
    from shopguard.settings import Settings

SHARED_STATE = frozenset({"redis"})
SHARED_JOURNALS = frozenset({"postgres"})
WORKER_HEADER = "shopguard-worker"  # every answer names the worker that gave it
_START_TIMEOUT = 120.0  # a worker replays the journal before it serves
_STOP_TIMEOUT = 30.0
_QUICK_DEATHS = 5  # a worker dying this often in a row within _QUICK of its start: give up
_QUICK = 10.0
log = logging.getLogger("shopguard.workers")

# builds and runs one worker's server and says when it serves (named module:function:
# the worker process imports it)
Serve = Callable[["Settings", str, int, int, socket.socket, Callable[[], None]], None]


def check_shareable(settings: Settings, workers: int) -> None:
    """Refuse several workers over state or a journal that lives in one process."""
    if workers <= 1:
        return
    if settings.state_store not in SHARED_STATE:
        raise ConfigError(
            f"--workers {workers} needs a shared state store: state_store is"
            f" {settings.state_store!r}, which lives in one process (set state_store: redis)"
        )
    if settings.decision_log not in SHARED_JOURNALS:
        raise ConfigError(
            f"--workers {workers} needs a shared journal: decision_log is"
            f" {settings.decision_log!r}, which one process owns (set decision_log: postgres)"
        )


def writer_name(settings: Settings, index: int) -> str:
    """The journal writer of worker ``index``: each keeps its own sequence and chain."""
    base = settings.writer or socket.gethostname()
    return f"{base}-w{index}"


def listening_socket(host: str, port: int, shared: bool = True) -> socket.socket:
    """A listening socket on ``host:port`` that other workers bind too (SO_REUSEPORT);
    ``shared=False``: one that fails while anything listens there (another service, or
    another ShopGuard whose workers would otherwise quietly share the port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _orphan_watch() -> None:
    """End this worker when its supervisor is gone (killed with SIGKILL): a worker
    nobody replaces or stops must not keep the port."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="orphan-watch", daemon=True).start()


def _worker_main(argv: list[str]) -> None:
    """One worker process (``python -m shopguard.api.workers``): its settings on stdin,
    then its socket, its engine, its server, run until SIGTERM. It writes ``ready`` or
    ``failed <why>`` on the file descriptor it was given."""
    import importlib

    import msgspec

    from shopguard.errors import ShopGuardError
    from shopguard.settings import Settings

    target, host, port, index, fd = argv
    told = os.fdopen(int(fd), "w", buffering=1)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops us with SIGTERM
    _orphan_watch()
    module, _, name = target.partition(":")
    serve: Serve = getattr(importlib.import_module(module), name)
    settings = msgspec.msgpack.decode(sys.stdin.buffer.read(), type=Settings)

    def ready() -> None:
        told.write("ready\n")

    try:
        sock = listening_socket(host, int(port))
        serve(settings, host, int(port), int(index), sock, ready)
    except (ShopGuardError, OSError) as exc:
        told.write("failed " + " ".join(str(exc).split()) + "\n")  # one line
        raise SystemExit(2) from None


class _Worker:
    """A worker process and the pipe it reports on."""

    def __init__(self, target: str, settings: Settings, host: str, port: int, index: int):
        import msgspec

        read, write = os.pipe()
        argv = [sys.executable, "-m", "shopguard.api.workers", target, host, str(port)]
        self.process = subprocess.Popen(
            [*argv, str(index), str(write)], stdin=subprocess.PIPE, pass_fds=(write,)
        )
        os.close(write)
        self.told = os.fdopen(read, "r")
        assert self.process.stdin is not None
        self.process.stdin.write(msgspec.msgpack.encode(settings))
        self.process.stdin.close()
        self.index, self.started = index, time.monotonic()

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        self.told.close()


class Supervisor:
    """Starts ``count`` workers, replaces those that die, stops them all on a signal.
    ``target`` names the function each worker serves with (``module:function``)."""

    def __init__(self, target: str, settings: Settings, host: str, port: int, count: int):
        self.target, self.settings, self.host, self.port = target, settings, host, port
        self.count = count
        self._workers: dict[int, _Worker] = {}
        self._quick_deaths: dict[int, int] = {}
        self._stopping = threading.Event()

    def _spawn(self, index: int) -> None:
        self._workers[index] = _Worker(self.target, self.settings, self.host, self.port, index)

    def _await_ready(self, index: int) -> None:
        """Wait for worker ``index`` to serve; ConfigError with its own message if not."""
        worker = self._workers[index]
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline and not self._stopping.is_set():
            ready, _, _ = select.select([worker.told], [], [], 0.2)
            if ready:
                line = worker.told.readline().strip()
                if line == "ready":
                    return
                worker.process.wait()
                why = line.removeprefix("failed ").strip()
                raise ConfigError(why or f"worker {index} exited with {worker.process.returncode}")
        if not self._stopping.is_set():
            raise ConfigError(f"worker {index} did not serve within {_START_TIMEOUT:.0f}s")

    def start(self) -> None:
        """Start every worker and wait until each serves (they load in parallel)."""
        for index in range(self.count):
            self._spawn(index)
        try:
            for index in range(self.count):
                self._await_ready(index)
        except BaseException:
            self.stop()
            raise

    def run(self, announce: Callable[[], None] = lambda: None) -> None:
        """Serve until SIGTERM or SIGINT, replacing workers that die meanwhile."""
        previous = {
            sig: signal.signal(sig, lambda *_: self._stopping.set())
            for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            self.start()
            announce()
            while not self._stopping.wait(0.2):
                self._replace_dead()
        finally:
            self.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _replace_dead(self) -> None:
        for index, worker in list(self._workers.items()):
            if worker.alive() or self._stopping.is_set():
                continue
            worker.close()
            quick = time.monotonic() - worker.started < _QUICK
            self._quick_deaths[index] = self._quick_deaths.get(index, 0) + 1 if quick else 0
            code = worker.process.returncode
            if self._quick_deaths[index] >= _QUICK_DEATHS:
                raise ConfigError(f"worker {index} keeps dying at start (exit {code})")
            log.warning(
                "worker %d (pid %d) exited with %s: starting another",
                index,
                worker.process.pid,
                code,
            )
            time.sleep(0.2 * self._quick_deaths[index])  # a crash loop does not spin
            self._spawn(index)

    def stop(self) -> None:
        """SIGTERM every worker (each drains its requests and closes its engine), then
        SIGKILL those still running after the timeout."""
        self._stopping.set()
        for worker in self._workers.values():
            if worker.alive():
                with contextlib.suppress(ProcessLookupError):
                    worker.process.terminate()
        deadline = time.monotonic() + _STOP_TIMEOUT
        for worker in self._workers.values():
            try:
                worker.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.close()
        self._workers.clear()

    def pids(self) -> dict[int, int]:
        return {index: w.process.pid for index, w in self._workers.items()}


def serve_workers(
    target: str, settings: Settings, host: str, port: int, count: int, announce: Any
) -> None:
    """``count`` workers on ``host:port`` until a signal stops them; ``target``
    (``module:function``) serves in each."""
    check_shareable(settings, count)
    listening_socket(host, port, shared=False).close()  # a port in use fails here, in one line
    Supervisor(target, settings, host, port, count).run(announce)


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
