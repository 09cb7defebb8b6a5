"""`shopguard demo` as a newcomer meets it: the command in a child process, the printed
address and credentials, a headless Chromium signed in with them that sees the chart of
decisions per minute, decisions on the live page and open cases in the review queue; then
Ctrl-C stops it cleanly and its temporary data directory is gone. Screenshots
demo-*.png under $SHOPGUARD_SCREENSHOTS (docs/console/ holds the committed ones)."""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.console.test_browser import CHROMIUM, FLAGS, _need_browser

SRC = str(Path(__file__).resolve().parents[2] / "src")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _banner(lines: queue.Queue[str]) -> dict[str, str]:
    """The demo's printed console address, user, password, key and data directory."""
    said = ""
    while "(key " not in said:
        said += lines.get(timeout=120)  # a hang guard only: the banner comes at start
    found = {
        name: re.search(rf"^  {name} +(\S+)$", said, re.M)
        for name in ("console", "user", "password", "API key")
    }
    folder = re.search(r"also in (\S+)/admin-key\)", said)
    assert all(found.values()) and folder, said
    return {name: m.group(1) for name, m in found.items() if m} | {"data": folder.group(1)}


def test_demo_console_shows_live_decisions_cases_and_a_chart(tmp_path: Path) -> None:
    _need_browser()
    from playwright.sync_api import expect, sync_playwright

    shots = Path(os.environ.get("SHOPGUARD_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    python_path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": python_path, "COLUMNS": "200"}
    command = [sys.executable, "-m", "shopguard.cli", "demo", "--port", str(port)]
    demo = subprocess.Popen(
        [*command, "--minutes", "3", "--rate", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert demo.stdout is not None
    out = demo.stdout
    threading.Thread(target=lambda: [lines.put(line) for line in out], daemon=True).start()
    try:
        shown = _banner(lines)
        base = shown["console"].removesuffix("/console")
        assert base == f"http://127.0.0.1:{port}"
        key = {"Authorization": f"Bearer {shown['API key']}"}
        for _ in range(240):  # until the traffic has held a case (the queue's content)
            held = httpx.get(f"{base}/v1/decisions?outcome=challenge&limit=1", headers=key)
            if held.json()["decisions"]:
                break
            time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(shown["console"])
            page.get_by_label("Name").fill(shown["user"])
            page.get_by_label("Password").fill(shown["password"])
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="Overview")).to_be_visible()
            expect(page.locator("svg.chart rect").first).to_be_attached()
            page.screenshot(path=shots / "demo-overview.png", full_page=True)

            page.get_by_role("link", name="Live").click()
            expect(page.locator("#live tr[data-event]").first).to_be_visible(timeout=15_000)
            page.screenshot(path=shots / "demo-live.png", full_page=True)

            page.get_by_role("link", name="Review").click()
            expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
            cases = page.locator("section.case, table.groups tr[data-group]")
            expect(cases.first).to_be_visible()
            page.screenshot(path=shots / "demo-review.png", full_page=True)
            browser.close()
        demo.send_signal(signal.SIGINT)  # Ctrl-C
        _, stderr = demo.communicate(timeout=60)
    finally:
        demo.kill()
    assert demo.returncode == 0, stderr
    assert re.search(r"stopped after [\d,]+ decisions: allow", stderr), stderr
    assert "Traceback" not in stderr
    assert not Path(shown["data"]).exists()  # the temporary data directory is removed
