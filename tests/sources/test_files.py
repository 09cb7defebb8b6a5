"""The files source: JSON lines read as replay reads them, nak puts messages back first,
decisions written as JSON lines."""

from __future__ import annotations

import io
from pathlib import Path

import msgspec

from shopguard.sources import Output, make_source
from tests.conftest import event


def _write(path: Path, n: int) -> None:
    lines = [
        msgspec.json.encode(event("sms.send", f"e{i}", i, phone="13812345678")) for i in range(n)
    ]
    path.write_bytes(b"\n".join(lines) + b"\n\n")


def test_batches_nak_and_the_end(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl", 5)
    _write(tmp_path / "b.jsonl", 2)
    source = make_source("files", paths=[tmp_path / "a.jsonl", tmp_path / "b.jsonl"])
    first = source.fetch(3, 0.1)
    assert [m.where for m in first] == [f"{tmp_path / 'a.jsonl'} event {i}" for i in (1, 2, 3)]
    source.nak(first[1:], 0.0)
    again = source.fetch(3, 0.1)
    assert [m.data for m in again[:2]] == [m.data for m in first[1:]]
    assert [m.redelivered for m in again] == [True, True, False]
    rest = source.fetch(10, 0.1)
    assert len(rest) == 3 and source.exhausted
    assert source.fetch(10, 0.1) == []


def test_decisions_are_written_as_json_lines(tmp_path: Path) -> None:
    _write(tmp_path / "a.jsonl", 1)
    out = io.BytesIO()
    source = make_source("files", paths=[tmp_path / "a.jsonl"], out=out)
    source.publish([Output("decisions", "shop", "shop:e0", b'{"x":1}'),
                    Output("alerts", "shop", "shop:e0:alert", b'{"y":1}')])  # fmt: skip
    assert out.getvalue() == b'{"x":1}\n'
