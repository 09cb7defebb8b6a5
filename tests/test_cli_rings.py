"""`shopguard rings` over a small journal: the book published, the report written."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.rings.book import book_path, load_book
from tests.rings.conftest import farm

runner = CliRunner()


def test_rings_writes_book_and_report(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path / "data")]
    lines = "\n".join(json.dumps(e) for e in farm("shop"))
    assert runner.invoke(app, ["decide", *data], input=lines).exit_code == 0
    out = tmp_path / "report"
    result = runner.invoke(app, ["rings", "--window", "7d", "--report", str(out), *data])
    assert result.exit_code == 0, result.output
    book = load_book(book_path(tmp_path / "data"))
    assert book is not None and [r.size for r in book.rings] == [3, 3]
    text = (out / "rings.md").read_text()
    assert book.rings[0].ring_id in text and "1 device" in text
    assert book.rings[0].members[0] not in text  # masked
    assert "farm" not in text and (out / "rings.png").read_bytes()[:4] == b"\x89PNG"


def test_dry_run_publishes_nothing_and_errors_are_one_line(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    result = runner.invoke(app, ["rings", *data])
    assert result.exit_code == 2 and result.output.startswith("error: no journal")
    assert "Traceback" not in result.output
    lines = "\n".join(json.dumps(e) for e in farm("shop"))
    assert runner.invoke(app, ["decide", *data], input=lines).exit_code == 0
    assert runner.invoke(app, ["rings", "--dry-run", *data]).exit_code == 0
    assert not book_path(tmp_path).exists()
    result = runner.invoke(app, ["rings", "--window", "soon", *data])
    assert result.exit_code == 2 and "bad duration" in result.output


def test_help_teaches() -> None:
    result = runner.invoke(app, ["rings", "--help"])
    assert result.exit_code == 0 and "Example: shopguard rings" in result.output
