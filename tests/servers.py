"""Real servers a test starts itself, on free ports, so it can kill and restart them:
``redis-server`` (alone or as a three-node cluster), PostgreSQL (``initdb``/``pg_ctl``)
and ``nats-server`` with JetStream. The development and CI machines' own servers
(6379, 5432, 4222) are never stopped.

Without the binary a test skips, except under ``CI=true``, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ON_CI = os.environ.get("CI") == "true"


def need(binary: str) -> str:
    """The binary's path, or skip (fail under CI) naming what is missing."""
    path = shutil.which(binary)
    if path is None:
        message = f"{binary} is not installed (tests that stop real servers start their own)"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_port(port: int, up: bool, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                if up:
                    return
        except OSError:
            if not up:
                return
        time.sleep(0.05)
    raise TimeoutError(f"port {port} did not go {'up' if up else 'down'} in {timeout}s")


def reachable(host: str, port: int) -> bool:
    """Whether the machine's own server answers (tests of it skip when not, except CI)."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def need_service(name: str, port: int) -> None:
    """Skip (fail under CI) unless the machine's own ``name`` listens on ``port``."""
    if not reachable("127.0.0.1", port):
        message = f"{name} is not reachable on 127.0.0.1:{port}"
        if ON_CI:
            pytest.fail(message)
        pytest.skip(message)


class Process:
    """A server process started from ``argv``; ``kill`` is SIGKILL, ``start`` again
    reuses the port and the data directory."""

    def __init__(self, argv: list[str], port: int, cwd: Path, user: str | None = None) -> None:
        self.argv, self.port, self.cwd, self.user = argv, port, cwd, user
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            user=self.user,
            group=self.user,
        )
        _wait_port(self.port, up=True)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)
        _wait_port(self.port, up=False)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


class RedisServer(Process):
    def __init__(self, workdir: Path, port: int | None = None, *extra: str) -> None:
        port = port or free_port()
        argv = [need("redis-server"), "--port", str(port), "--bind", "127.0.0.1"]
        argv += ["--save", "", "--appendonly", "no", *extra]
        super().__init__(argv, port, workdir)

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@contextlib.contextmanager
def redis_server(workdir: Path) -> Iterator[RedisServer]:
    server = RedisServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def redis_cluster(workdir: Path, nodes: int = 3) -> Iterator[list[RedisServer]]:
    """A Redis Cluster of ``nodes`` masters (no replicas), slots spread by
    ``redis-cli --cluster create``; yields its nodes (any one's URL reaches it)."""
    cli = need("redis-cli")
    servers = []
    try:
        for i in range(nodes):
            port = free_port()
            while port > 55535:  # a node also listens on its port + 10000
                port = free_port()
            node = workdir / f"node{i}"
            node.mkdir(parents=True, exist_ok=True)
            extra = ("--cluster-enabled", "yes", "--cluster-config-file", f"nodes-{port}.conf")
            server = RedisServer(node, port, *extra)
            server.start()
            servers.append(server)
        addresses = [f"127.0.0.1:{s.port}" for s in servers]
        subprocess.run(
            [cli, "--cluster", "create", *addresses, "--cluster-replicas", "0", "--cluster-yes"],
            check=True,
            capture_output=True,
            timeout=60,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            info = subprocess.run(
                [cli, "-p", str(servers[0].port), "cluster", "info"],
                capture_output=True,
                text=True,
                timeout=10,
            ).stdout
            if "cluster_state:ok" in info:
                break
            time.sleep(0.1)
        else:
            raise TimeoutError("the cluster did not reach cluster_state:ok")
        yield servers
    finally:
        for server in servers:
            server.stop()


class PostgresServer(Process):
    """A PostgreSQL cluster of its own (``initdb`` in ``workdir``), trust auth, database
    ``test``. As root, it runs as the ``postgres`` user (PostgreSQL refuses root)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        if os.geteuid() == 0:  # the postgres user cannot enter root's 0700 temp dirs
            workdir = Path(tempfile.mkdtemp(prefix="shopguard-pg-"))
        self.workdir = workdir
        self.data = workdir / "pgdata"
        self.sock = workdir / "pgsock"
        user = "postgres" if os.geteuid() == 0 else None
        port = port or free_port()
        argv = [need("postgres"), "-D", str(self.data), "-p", str(port)]
        argv += ["-k", str(self.sock), "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off"]
        super().__init__(argv, port, workdir, user)
        self._init(workdir)

    def _init(self, workdir: Path) -> None:
        need("initdb")
        self.sock.mkdir(parents=True, exist_ok=True)
        if self.user:
            shutil.chown(workdir, self.user)
            shutil.chown(self.sock, self.user)
        subprocess.run(
            ["initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust"],
            check=True,
            capture_output=True,
            timeout=120,
            user=self.user,
            group=self.user,
        )

    def start(self) -> None:
        super().start()
        deadline = time.monotonic() + 30
        while True:  # the port opens a little before connections are accepted
            done = self._psql("SELECT 1")
            if done.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        self._psql("CREATE DATABASE test")  # fails harmlessly once it exists (a restart)

    def _psql(self, sql: str) -> subprocess.CompletedProcess[bytes]:
        where = ["-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", "postgres"]
        return subprocess.run(["psql", *where, "-tAc", sql], capture_output=True, timeout=30)

    @property
    def dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/test"


@contextlib.contextmanager
def postgres_server(workdir: Path) -> Iterator[PostgresServer]:
    need("postgres")
    server = PostgresServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
        if server.workdir != workdir:
            shutil.rmtree(server.workdir, ignore_errors=True)


class NatsServer(Process):
    """``nats-server`` with JetStream, its store in ``workdir`` (kept across restarts)."""

    def __init__(self, workdir: Path, port: int | None = None) -> None:
        port = port or free_port()
        store = workdir / "jetstream"
        argv = [need("nats-server"), "-js", "-a", "127.0.0.1", "-p", str(port)]
        argv += ["-sd", str(store)]
        super().__init__(argv, port, workdir)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


@contextlib.contextmanager
def nats_server(workdir: Path) -> Iterator[NatsServer]:
    server = NatsServer(workdir)
    server.start()
    try:
        yield server
    finally:
        server.stop()
