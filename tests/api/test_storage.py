"""Over HTTP: a full disk or a locked journal answers 503 + Retry-After (never 500),
/readyz is not ready until writes succeed again, the log gets one line per kind of
failure (no traceback per request), and `shopguard audit verify` is clean afterwards."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient
from typer.testing import CliRunner

from shopguard.api import KeyStore, create_app
from shopguard.cli import app as cli
from shopguard.engine import Engine
from tests.conftest import TEST_KEYS, make_engine
from tests.state.disks import fill, locked, small_disk


def sms(event_id: str, second: int, phone: str = "13812345678") -> dict[str, Any]:
    return {
        "type": "sms.send",
        "event_id": event_id,
        "tenant": "shop",
        "time": f"2025-03-01T10:{second // 60:02d}:{second % 60:02d}Z",
        "phone": phone,
        "ip": "1.2.3.4",
    }


def serve(data_dir: Path) -> tuple[Engine, TestClient, dict[str, str]]:
    engine = make_engine(decision_log="sqlite", data_dir=str(data_dir), journal_probe_every="0s")
    keys = KeyStore(data_dir / "access.db")
    auth = {"Authorization": f"Bearer {keys.create('shop', ['decide'])[1]}"}
    return engine, TestClient(create_app(engine, keys), raise_server_exceptions=False), auth


def refused(answer: Any) -> bool:
    return (
        answer.status_code == 503
        and answer.headers["Retry-After"] == "1"
        and answer.json()["type"].endswith("/storage-unavailable")
    )


def test_a_full_disk_answers_503_and_counts_only_durable_codes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with small_disk(tmp_path / "disk", "8m") as disk:
        _, client, auth = serve(disk)
        with client:
            decide = lambda e: client.post("/v1/decisions", json=e, headers=auth)  # noqa: E731
            assert decide(sms("s0", 0)).json()["outcome"] == "allow"
            assert client.get("/readyz").status_code == 200
            ballast = fill(disk)
            with caplog.at_level(logging.INFO):
                answers = [decide(sms(f"s{i}", i)) for i in range(1, 61)]
                events = [sms(f"b{i}", 70 + i) for i in range(5)]
                batch = client.post("/v1/decisions:batch", json=events, headers=auth)
                ready = client.get("/readyz")
            assert all(refused(a) for a in answers) and refused(batch)
            assert ready.status_code == 503 and ready.json()["reason"] == "full"
            storage = [r for r in caplog.records if r.name == "shopguard.storage"]
            assert len(storage) == 1  # one line for 66 failures, rate-limited
            assert not [r for r in caplog.records if r.exc_info]  # no traceback at all
            ballast.unlink()
            assert client.get("/readyz").status_code == 200  # recovers by itself
            outcomes = [decide(sms(f"t{i}", 200 + i)).json()["outcome"] for i in range(5)]
            assert outcomes == ["allow"] * 4 + ["deny"]  # the 65 refused were not counted
        verified = CliRunner().invoke(
            cli,
            ["audit", "verify", "--data-dir", str(disk)],
            env={"SHOPGUARD_KEYS": "k1:" + TEST_KEYS["k1"]},
        )
        assert verified.exit_code == 0, verified.output


def test_a_journal_locked_by_another_process_answers_503_then_recovers(tmp_path: Path) -> None:
    engine, client, auth = serve(tmp_path)
    with client:
        decide = lambda e: client.post("/v1/decisions", json=e, headers=auth)  # noqa: E731
        assert decide(sms("s0", 0)).status_code == 200
        with locked(engine.settings.journal_path) as holder:
            assert refused(decide(sms("s1", 1)))
            ready = client.get("/readyz")
            assert ready.status_code == 503 and ready.json()["reason"] == "locked"
            holder.release()
            assert client.get("/readyz").status_code == 200
        assert decide(sms("s1", 1)).status_code == 200
        assert all(report.ok for report in engine.log.verify())
