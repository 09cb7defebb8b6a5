"""The first run as README tells it: `--version`, the `decide` one-liner, `serve` saying
where the console is, the curl example against a real server process, and `shopguard
demo` refusing a busy port in one line. README's own lines are run, with bash, so the
text cannot drift from what works."""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import typer
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.version import __version__

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _readme_line(starts: str) -> str:
    """The README line (in a code block) that starts with ``starts``."""
    found = [line for line in README.splitlines() if line.startswith(starts)]
    assert found, f"README has no line starting {starts!r}"
    return found[0]


def _shell(tmp_path: Path) -> dict[str, str]:
    """An environment where `shopguard` is this checkout's, whatever PATH holds."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "shopguard"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m shopguard.cli "$@"\n')
    shim.chmod(0o755)
    source = str(ROOT / "src")
    python_path = os.pathsep.join(p for p in (source, os.environ.get("PYTHONPATH", "")) if p)
    return {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "PYTHONPATH": python_path,
        "COLUMNS": "200",
    }


def test_version_prints_the_package_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"shopguard {__version__} (")


def test_evaluate_defaults_to_the_pack_of_the_published_figures() -> None:
    # docs/evaluation's reports (README's figures) are the retail pack's
    assert "--pack retail" in (ROOT / "README.md").read_text()
    evaluate = typer.main.get_command(app).commands["evaluate"]  # type: ignore[attr-defined]
    pack = next(p for p in evaluate.params if p.name == "pack")
    assert pack.default == "retail"


def test_readme_decide_line_decides(tmp_path: Path) -> None:
    line = _readme_line('echo \'{"type":"sms.send"')
    assert line.endswith("| shopguard decide")
    done = subprocess.run(
        ["bash", "-c", line], cwd=tmp_path, env=_shell(tmp_path), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    decision = json.loads(done.stdout)
    assert decision["event_id"] == "e1" and decision["outcome"] == "allow"
    assert (tmp_path / "shopguard-data" / "decisions.db").is_file()


def test_serve_prints_the_console_url_and_the_readme_curl_example_decides(
    tmp_path: Path,
) -> None:
    port = str(_free_port())
    serve = _readme_line("shopguard serve --port 8080 &")
    key_line = _readme_line("KEY=$(cat shopguard-data/admin-key)")
    curl = _readme_line('sed "s/2025-01-01T00:00:00Z/')
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    env = _shell(tmp_path)
    command = serve.split("&")[0].replace("8080", port)
    server = subprocess.Popen(
        ["bash", "-c", f"exec {command}"], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    lines: queue.Queue[str] = queue.Queue()
    assert server.stderr is not None
    threading.Thread(target=lambda: [lines.put(x) for x in server.stderr], daemon=True).start()  # type: ignore[union-attr]
    try:
        said = ""
        while "console:" not in said:
            said += lines.get(timeout=60)  # a hang guard only: the line comes at start
        assert f"console: http://127.0.0.1:{port}/console" in said
        script = f"{key_line}\n{curl.replace('8080', port)}"
        done = subprocess.run(
            ["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        decision = json.loads(done.stdout)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(30)
    example = json.loads((ROOT / "examples" / "event.json").read_text())
    assert example["tenant"] == "default"  # the tenant of the admin key README reads
    assert decision["event_id"] == example["event_id"] and decision["tenant"] == "default"
    assert decision["outcome"] in {"allow", "review", "challenge", "deny"}


def test_demo_refuses_a_busy_port_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "shopguard.cli", "demo", "--port", str(port)],
            env=_shell(tmp_path),
            capture_output=True,
            text=True,
        )
    assert done.returncode == 2
    assert re.fullmatch(
        rf"error: port {port} on 127\.0\.0\.1 is busy \(.+\): pick another with --port\n",
        done.stderr,
    ), done.stderr
