"""The docs name every event type, event field and fact, and their code runs as written:
they are kept in sync by test."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import msgspec
import pytest

from shopguard.desensitize.schema import FACT_TYPES
from shopguard.events.catalog import EVENT_CLASSES
from shopguard.features.spec import KINDS

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_event_catalog_doc_covers_every_type_field_and_fact() -> None:
    text = (DOCS / "events.md").read_text()
    for cls in EVENT_CLASSES:
        assert f"`{cls.__struct_config__.tag}`" in text
        for field in msgspec.structs.fields(cls):
            assert f"`{field.name}`" in text, field.name
    for fact in FACT_TYPES:
        assert f"`{fact}`" in text, fact


def test_feature_doc_covers_every_kind() -> None:
    text = (DOCS / "features.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in text, kind


# -- docs/sdk.md: every Python block runs, in order, against a real `shopguard serve` ---
def _python_blocks(text: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def _printed(block: str) -> str:
    """What a block says it prints: the `# ` lines right after each `print(` line."""
    out, after_print = [], False
    for line in block.splitlines():
        if line.lstrip().startswith("print("):
            after_print = True
        elif after_print and line.startswith("# "):
            out.append(line[2:])
        else:
            after_print = False
    return "".join(f"{line}\n" for line in out)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """`shopguard serve` as the page starts it: a fresh data directory, its admin key."""
    port, data = _free_port(), tmp_path / "shopguard-data"
    command = [sys.executable, "-m", "shopguard.cli", "serve", "--port", str(port)]
    server = subprocess.Popen([*command, "--data-dir", str(data)], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        while server.poll() is None:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        yield url, (data / "admin-key").read_text().strip()
    finally:
        server.terminate()
        server.wait(30)


def test_sdk_page_runs_as_written(
    served: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPGUARD_URL", served[0])
    monkeypatch.setenv("SHOPGUARD_KEY", served[1])
    blocks = _python_blocks((DOCS / "sdk.md").read_text())
    assert len(blocks) >= 8
    scope: dict[str, object] = {"__name__": "sdk_md"}
    for number, block in enumerate(blocks, 1):
        shown = io.StringIO()
        with contextlib.redirect_stdout(shown):
            exec(compile(block, f"docs/sdk.md block {number}", "exec"), scope)
        assert shown.getvalue() == _printed(block), f"docs/sdk.md block {number} printed otherwise"


# -- docs/README.md: the map of every page ------------------------------------------------
# Pages other changes of issue 15 write; listed in the index before they land. Once they
# are all in docs/, empty this set so a broken link fails again.
WRITTEN_ELSEWHERE: set[str] = set()  # pages another change writes, until it lands


def test_index_lists_every_page_and_links_only_to_what_exists() -> None:
    index = (DOCS / "README.md").read_text()
    links = set(re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert not pages - links, f"docs pages missing from docs/README.md: {sorted(pages - links)}"
    broken = [
        link for link in links if not (DOCS / link).exists() and link not in WRITTEN_ELSEWHERE
    ]
    assert not broken, f"docs/README.md links to nothing: {broken}"
    readme = (DOCS.parent / "README.md").read_text()
    assert "(docs/README.md)" in readme, "README's Docs: line links the index"
