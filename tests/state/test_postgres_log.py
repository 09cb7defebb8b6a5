"""What only the PostgreSQL journal does: several writers, each with its own chain; a
commit lost with its connection; migrations two workers run at once; time partitions;
tampering found by ``shopguard audit verify``; and an engine on it deciding exactly as on
SQLite, recovering its dedupe window on restart."""

from __future__ import annotations

import multiprocessing
import threading
from pathlib import Path
from typing import Any

import msgspec
import psycopg
import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.errors import ConfigError, StorageUnavailable
from shopguard.state.postgres import PostgresDecisionLog
from shopguard.state.postgres.reads import TAG
from shopguard.state.postgres.schema import MIGRATIONS
from tests.conftest import event, make_engine
from tests.state.pg import DSN, pg_schema, sql
from tests.state.test_log_contract import DAY, KEY, problems, record


@pytest.fixture
def schema() -> Any:
    with pg_schema("pg") as name:
        yield name


def _log(schema: str, writer: str = "w1", **options: Any) -> PostgresDecisionLog:
    return PostgresDecisionLog(DSN, schema, writer=writer, key=KEY, **options)


def test_a_commit_lost_with_its_connection_keeps_nothing_and_the_chain_goes_on(
    schema: str,
) -> None:
    log = _log(schema)
    log.append(record(1))
    log.commit()
    log.append(record(2))
    log.append(record(3, ops=[b"op"]))
    pid = log.db().info.backend_pid
    sql(f"SELECT pg_terminate_backend({pid})")  # as a server restart or a network cut does
    with pytest.raises(StorageUnavailable):
        log.commit()
    assert log.last_seq() == 1 and log.discard() is False
    log.append(record(2, phone="again"))  # on a new connection, from the committed head
    log.commit()
    assert [r.facts.get("phone") for r in log.records_after(0)] == [None, "again"]
    assert list(log.list_ops()) == [] and problems(log) == []
    log.close()


def _writer(schema: str, name: str, batches: int) -> None:
    log = _log(schema, name)
    for b in range(batches):
        for n in range(20):
            seq = b * 20 + n + 1
            log.append(record(seq, seq * 1.0, ops=[f"{name}:{seq}".encode()] if n == 0 else []))
        log.commit()
    log.close()


def test_two_writers_appending_at_once_each_keep_a_chain_that_verifies(schema: str) -> None:
    _log(schema, "setup").close()  # the schema exists before the race
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_writer, args=(schema, f"w{i}", 10)) for i in (1, 2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
        assert worker.exitcode == 0
    log = _log(schema, "reader")
    reports = {r.table: r for r in log.verify()}
    assert reports["decisions@w1"].records == reports["decisions@w2"].records == 200
    assert all(r.ok for r in reports.values()), [r for r in reports.values() if not r.ok]
    assert sorted(op.decode() for op in log.list_ops()) == sorted(
        f"w{i}:{b * 20 + 1}" for i in (1, 2) for b in range(10)
    )
    assert log.last_seq() == 0 and list(log.records_after(0)) == []  # its own: none
    log.close()


def test_another_writers_decision_is_found_and_served_by_its_tagged_seq(
    schema: str, tmp_path: Path
) -> None:
    options = {"decision_log": "postgres", "postgres_schema": schema, "data_dir": str(tmp_path)}
    first, second = make_engine(**options, writer="a"), make_engine(**options, writer="b")
    decided = first.decide(event("sms.send", "s1", 0.0, phone="13800000000"))
    assert second.log.find("shop", "s1") == decided
    tagged = second.log.seq_of("shop", "s1")
    assert tagged is not None and tagged >> TAG == first.log.writer_id  # type: ignore[attr-defined]
    assert second.log.decision(tagged) == decided and second.log.decision(1) is None
    with pytest.raises(ConfigError, match="already writing"):
        make_engine(**options, writer="a")
    first.close()
    second.close()


def test_migrations_run_once_when_two_workers_start_together(schema: str) -> None:
    opened: list[PostgresDecisionLog] = []
    threads = [
        threading.Thread(target=lambda i=i: opened.append(_log(schema, f"w{i}"))) for i in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(opened) == 3
    with psycopg.connect(DSN) as conn:
        rows = conn.execute(f'SELECT version FROM "{schema}".migrations').fetchall()
    assert [r[0] for r in rows] == list(range(1, len(MIGRATIONS) + 1))
    for log in opened:
        log.close()


@pytest.mark.parametrize(("every", "parts"), [("day", {4, 5}), ("week", {1, 2})])
def test_decisions_land_in_time_partitions_created_as_needed(
    schema: str, every: str, parts: set[int]
) -> None:
    log = _log(schema, partition=every)
    for day in range(4):
        log.append(record(day + 1, day * DAY))
    log.commit()
    assert len(log.parts.bounds(log.db())) in parts  # and one ahead of the newest
    log.close()


def _verify(tmp_path: Path, schema: str) -> tuple[int, str]:
    env = {"SHOPGUARD_DECISION_LOG": "postgres", "SHOPGUARD_POSTGRES_SCHEMA": schema}
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(tmp_path)], env=env)
    return result.exit_code, result.output


@pytest.mark.parametrize(
    ("tampering", "found"),
    [
        (
            "UPDATE {s}.decisions SET outcome = (outcome + 1) % 4 WHERE seq = 3",
            "record edited at 3",
        ),
        ("DELETE FROM {s}.decisions WHERE seq = 4", "records deleted at 4"),
        ("DELETE FROM {s}.decisions WHERE seq = 6", "newest records deleted"),
        ("UPDATE {s}.decisions SET terms = '{{}}' WHERE seq = 2", "search terms altered at 2"),
        ("UPDATE {s}.heads SET position = 5 WHERE chain = 'decisions'", "sealed head forged"),
        ("UPDATE {s}.list_ops SET op = '{{}}' WHERE id = 1", "list_ops@w1: record edited"),
    ],
    ids=["edited", "deleted", "tail cut", "unindexed", "head forged", "list change edited"],
)
def test_audit_verify_names_a_row_edited_with_sql(
    schema: str, tmp_path: Path, tampering: str, found: str
) -> None:
    engine = make_engine(decision_log="postgres", postgres_schema=schema, writer="w1",
                         data_dir=str(tmp_path))  # fmt: skip
    for i in range(6):
        engine.decide(event("sms.send", f"s{i}", i * 10.0, phone="13800000000", ip="1.2.3.4"))
    engine.list_add("deny", "device", "rig-1", tenant="shop", reason="test")
    engine.close()
    code, output = _verify(tmp_path, schema)
    assert code == 0, output
    sql(tampering.format(s=f'"{schema}"'))
    code, output = _verify(tmp_path, schema)
    assert code == 1 and found in output, output


def _answers(decisions: list[Any]) -> list[dict[str, Any]]:
    return [{**msgspec.structs.asdict(d), "latency_us": 0} for d in decisions]


def test_an_engine_decides_alike_on_sqlite_and_postgres_and_recovers_its_dedupe(
    schema: str, tmp_path: Path
) -> None:
    from tests.state.worker import events

    stream = [msgspec.json.encode(e) for e in events(300)]
    lite = make_engine(decision_log="sqlite", data_dir=str(tmp_path / "lite"))
    options = {"decision_log": "postgres", "postgres_schema": schema, "writer": "w1"}
    pg = make_engine(**options, data_dir=str(tmp_path / "pg"))
    for i in range(0, 300, 64):
        assert _answers(pg.decide_many(stream[i : i + 64])) == _answers(
            lite.decide_many(stream[i : i + 64])
        )
    lite.close()
    pg.close()
    again = make_engine(**options, data_dir=str(tmp_path / "pg"), snapshot_every=0)
    resent = again.decide_many(stream[:5])  # answered from the journal, not decided anew
    assert again.log.last_seq() == 300 and _answers(resent) == _answers(
        [again.log.decision(seq) for seq in range(1, 6)]
    )
    again.close()
