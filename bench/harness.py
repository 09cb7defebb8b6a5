"""What the HTTP benchmarks share: a `shopguard serve` subprocess pinned to one core, an
API key for it, and raw HTTP/1.1 over asyncio streams (loopback only)."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

HOST = "127.0.0.1"
KEY = re.compile(r"sg_[0-9a-f]+_[\w-]+")


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def pin(cpu: int) -> None:
    """Run the calling process on one CPU (where there are several), as `taskset` would."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def wait_port(port: int, seconds: float = 60, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening")
        try:
            socket.create_connection((HOST, port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listened on {HOST}:{port} within {seconds:.0f} s")


def cli(*args: str) -> list[str]:
    """The `shopguard` command as this interpreter runs it (so PYTHONPATH applies)."""
    return [sys.executable, "-m", "shopguard.cli", *args]


def find_key(text: str, data_dir: Path | None = None) -> str | None:
    """An API key secret in a command's output or else in a small file of ``data_dir``
    (where a server may put a generated key, mode 0600, instead of printing it)."""
    found = KEY.search(text)
    if found:
        return found.group(0)
    if data_dir is not None and data_dir.is_dir():
        for path in sorted(data_dir.iterdir()):
            small = path.is_file() and ".db" not in path.name and path.stat().st_size < 65536
            if small and (found := KEY.search(path.read_text("latin-1"))):
                return found.group(0)
    return None


def create_key(data_dir: Path, tenant: str, env: dict[str, str], name: str = "bench") -> str:
    """A `decide` key for ``tenant``, made before the server starts (so it generates none)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    args = ["keys", "create", "--tenant", tenant, "--scope", "decide", "--name", name]
    made = subprocess.run(
        cli(*args, "--data-dir", str(data_dir)),
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    key = find_key(made.stdout + made.stderr, data_dir)
    if made.returncode != 0 or key is None:
        raise RuntimeError(f"`shopguard keys create` failed ({made.returncode}): {made.stderr}")
    return key


def serve(
    data_dir: Path, port: int, env: dict[str, str], log: IO[bytes], cpu: int = 0
) -> subprocess.Popen[bytes]:
    """`shopguard serve` on ``port``, pinned to ``cpu``, its output into ``log`` (a pipe
    nobody reads would block a server that logs a lot); returns once it listens."""
    proc = subprocess.Popen(
        cli("serve", "--port", str(port), "--data-dir", str(data_dir)),
        env={"COLUMNS": "200", **env},
        stdout=log,
        stderr=log,
        preexec_fn=lambda: pin(cpu),
    )
    try:
        wait_port(port, 120, proc)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes], grace: float = 10) -> int:
    """SIGTERM, then SIGKILL after ``grace`` seconds; the exit status."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(grace)
    return proc.returncode


def post(path: str, body: bytes, key: str) -> bytes:
    """One keep-alive HTTP/1.1 POST of a JSON body."""
    return (
        f"POST {path} HTTP/1.1\r\nHost: b\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """Status and body of one response with a Content-Length (what the servers send)."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("closed by the server")
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    return int(status_line.split()[1]), await reader.readexactly(length)


def quantile_ms(ordered: list[float], q: float) -> float | None:
    """The ``q`` quantile of sorted seconds, in milliseconds (None for no samples)."""
    if not ordered:
        return None
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)
