"""Each kind of tampering with a real data directory, and `audit verify` naming it.

Every case edits the files as an attacker with write access to the database (but not to
the audit key) would: plain SQL with sqlite3, hashes recomputed where that is what an
attacker would do. Verify must exit 1 and print ``TAMPERED <table>: <kind>``.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.model.registry import ModelRegistry
from shopguard.rules.versions import RulesetStore
from shopguard.state.audit import HeadFile, audit_key
from shopguard.state.chain import (
    GENESIS,
    anchor_content,
    body_digest,
    chain_heads,
    decision_content,
    link,
)
from shopguard.state.sqlite import SqliteDecisionLog
from tests.conftest import event, make_engine

EVENTS = 12
N = EVENTS + 2  # decisions in the journal: the two labels each feed back a case.label


def _journal(data: Path) -> None:
    engine = make_engine(decision_log="sqlite", data_dir=str(data))
    for i in range(EVENTS):
        if i % 3 == 2:
            fields = {"account": f"a{i}", "merchant": "m1", "amount": 25.0 + i}
            engine.decide(event("payment", f"p{i}", i * 10.0, **fields))
        else:
            engine.decide(event("sms.send", f"s{i}", i * 10.0, phone="13800000000", ip="1.2.3.4"))
    engine.list_add("deny", "device", "rig-1", tenant="shop", reason="test")
    engine.label({"tenant": "shop", "kind": "fraud", "event_id": "p2", "loss": 27.0})
    engine.label({"tenant": "shop", "kind": "chargeback", "event_id": "p5", "loss": 30.0})
    engine.close()
    rulesets = RulesetStore(data / "rulesets.db")
    rulesets.upload("rules: []\n", "ana")
    rulesets.change("publish", "ana", 1)
    rulesets.close()
    models = ModelRegistry(data / "models")
    models.change("retire", "ana")
    models.change("retire", "li")


def _verify(data: Path) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["audit", "verify", "--data-dir", str(data)])
    return result.exit_code, result.output


def sql(*statements: str) -> Callable[[Path], None]:
    def tamper(data: Path) -> None:
        with sqlite3.connect(data / "decisions.db") as db:
            for statement in statements:
                db.execute(statement)

    return tamper


def _rechain(db: sqlite3.Connection, start: int, previous: bytes) -> None:
    """What an attacker does after an edit: recompute every hash from ``start`` on."""
    rows = db.execute(
        "SELECT seq, tenant, event_id, time, type, outcome, merchant, gross, stake, facts,"
        " decision FROM decisions WHERE seq >= ? ORDER BY seq",
        (start,),
    ).fetchall()
    for row in rows:
        body = body_digest(bytes(row[9]), bytes(row[10]))
        content = decision_content(row[:9], body)
        previous = link(previous, content)
        db.execute(
            "UPDATE decisions SET body = ?, content = ?, chain = ? WHERE seq = ?",
            (body, content, previous, row[0]),
        )


def rewrite(data: Path) -> None:
    """Change seq 3's outcome and rehash the whole chain: every link holds."""
    with sqlite3.connect(data / "decisions.db") as db:
        db.execute("UPDATE decisions SET outcome = (outcome + 1) % 4 WHERE seq = 3")
        _rechain(db, 1, GENESIS)


def append(data: Path) -> None:
    """A well-formed record after the newest one: content and chain computed."""
    with sqlite3.connect(data / "decisions.db") as db:
        row = db.execute(f"SELECT * FROM decisions WHERE seq = {N}").fetchone()
        db.execute(f"INSERT INTO decisions VALUES ({','.join('?' * len(row))})", (N + 1, *row[1:]))
        previous = db.execute(f"SELECT chain FROM decisions WHERE seq = {N}").fetchone()[0]
        _rechain(db, N + 1, bytes(previous))


def forge_anchor(data: Path) -> None:
    """The issue's exploit: drop the oldest records behind a made-up compaction anchor
    (chained properly), edit an older record and rehash from there."""
    with sqlite3.connect(data / "decisions.db") as db:
        db.execute("DELETE FROM decisions WHERE seq <= 5")
        db.execute("UPDATE decisions SET outcome = 0 WHERE seq = 6")
        content = anchor_content(5, GENESIS)
        db.execute(
            "INSERT INTO anchor_log VALUES (1, 5, ?, ?, ?)",
            (GENESIS, content, link(GENESIS, content)),
        )
        _rechain(db, 6, GENESIS)


def negative_seq(data: Path) -> None:
    with sqlite3.connect(data / "decisions.db") as db:
        row = db.execute("SELECT * FROM decisions WHERE seq = 1").fetchone()
        db.execute(f"INSERT INTO decisions VALUES ({','.join('?' * len(row))})", (-1, *row[1:]))


def rulesets(statement: str) -> Callable[[Path], None]:
    def tamper(data: Path) -> None:
        with sqlite3.connect(data / "rulesets.db") as db:
            db.execute(statement)

    return tamper


def index_term(data: Path) -> None:
    """Make seq 4 findable under a rule that never weighed in on it."""
    sql("INSERT INTO decision_terms VALUES ('shop', 0, 'rule:x', 4)")(data)


def drop_model_change(data: Path) -> None:
    trail = data / "models" / "changes.jsonl"
    trail.write_bytes(b"".join(trail.read_bytes().splitlines(keepends=True)[:-1]))


def pickle_snapshot(data: Path) -> None:
    import pickle

    with sqlite3.connect(data / "decisions.db") as db:
        db.execute("UPDATE snapshot SET state = ?", (pickle.dumps({"state": 1}),))


CASES: list[tuple[str, Callable[[Path], None], str]] = [
    (
        "edit",
        sql("UPDATE decisions SET outcome = outcome + 1 WHERE seq = 7"),
        "decisions: record edited at 7",
    ),
    ("rewrite", rewrite, "decisions: chain rewritten"),
    ("insert", append, f"decisions: records inserted past the sealed head ({N})"),
    ("delete", sql("DELETE FROM decisions WHERE seq = 4"), "decisions: records deleted at 4"),
    (
        "delete newest",
        sql(f"DELETE FROM decisions WHERE seq >= {N - 1}"),
        "decisions: newest records deleted",
    ),
    ("forged anchor", forge_anchor, "anchors: anchor forged"),
    (
        "null chain",
        sql("UPDATE decisions SET chain = NULL WHERE seq = 3"),
        "decisions: unchained record at 3",
    ),
    ("negative seq", negative_seq, "decisions: negative seq at -1"),
    (
        "money columns",
        sql("UPDATE decisions SET gross = 0 WHERE seq = 3"),
        "decisions: money columns edited at 3",
    ),
    (
        "merchant",
        sql("UPDATE decisions SET merchant = 'm2' WHERE seq = 6"),
        "decisions: money columns edited at 6",
    ),
    (
        "fake erasure",
        sql("UPDATE decisions SET redacted = 1 WHERE seq = 2"),
        "decisions: record edited (marked redacted, and no redaction covers it) at 2",
    ),
    ("label edit", sql("UPDATE labels SET loss = 0 WHERE id = 1"), "labels: record edited at 1"),
    ("label delete", sql("DELETE FROM labels WHERE id = 2"), "labels: newest records deleted"),
    (
        "list ops",
        sql("UPDATE list_ops SET op = CAST('{}' AS BLOB)"),
        "list_ops: record edited at 1",
    ),
    ("list op delete", sql("DELETE FROM list_ops"), "list_ops: newest records deleted"),
    (
        "ruleset trail",
        rulesets("UPDATE changes SET actor = 'eve'"),
        "ruleset_changes: record edited",
    ),
    (
        "ruleset cut",
        rulesets("DELETE FROM changes WHERE id = 2"),
        "ruleset_changes: newest records",
    ),
    ("ruleset text", rulesets("UPDATE versions SET text = 'x'"), "ruleset_changes: record edited"),
    ("model trail", drop_model_change, "model_changes: newest records deleted"),
    ("snapshot", pickle_snapshot, "snapshot: snapshot forged or corrupted"),
    (
        "search index",
        sql("DELETE FROM decision_terms WHERE seq = 3"),
        "search_index: search index altered at 3",
    ),
    ("index forged", index_term, "search_index: search index altered at 4"),
    ("head file", lambda data: (data / "decisions.db.head").unlink(), "heads: head file missing"),
    ("audit key", lambda data: (data / "audit.key").unlink(), "heads: audit key missing"),
]


@pytest.mark.parametrize(("tamper", "named"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_verify_names_each_kind_of_tampering(
    tmp_path: Path, tamper: Callable[[Path], None], named: str
) -> None:
    _journal(tmp_path)
    code, output = _verify(tmp_path)
    assert code == 0, output
    tamper(tmp_path)
    code, output = _verify(tmp_path)
    assert code == 1 and f"TAMPERED {named}" in output, output


def test_a_restart_over_a_rewritten_journal_does_not_bless_it(tmp_path: Path) -> None:
    """The server starts on a rewritten chain and commits on top: the seal it then writes
    carries the alarm, so verify still fails."""
    _journal(tmp_path)
    rewrite(tmp_path)
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    engine.decide(event("sms.send", "later", 500.0, phone="13800000001"))
    engine.close()
    code, output = _verify(tmp_path)
    assert code == 1 and "TAMPERED heads: opened on a journal not ending at its seal" in output


def test_a_forged_decision_is_not_served(tmp_path: Path) -> None:
    _journal(tmp_path)
    with sqlite3.connect(tmp_path / "decisions.db") as db:
        raw = db.execute("SELECT decision FROM decisions WHERE seq = 3").fetchone()[0]
        forged = bytes(raw).replace(b'"allow"', b'"deny"')
        assert forged != bytes(raw)
        db.execute("UPDATE decisions SET decision = ? WHERE seq = 3", (forged,))
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    assert engine.find("shop", "p2") is None  # via the dedupe index (log.decision)
    engine.dedupe.seen.clear()
    assert engine.log.find("shop", "p2") is None  # and by event id
    assert engine.find("shop", "p5") is not None  # the others still are
    engine.close()


def test_a_forged_decision_with_every_hash_recomputed_is_not_served(tmp_path: Path) -> None:
    """The issue's exploit: edit a decision and rehash its content and the chain after it;
    each row's own hashes hold, but the commit's sealed MAC does not."""
    _journal(tmp_path)
    with sqlite3.connect(tmp_path / "decisions.db") as db:
        raw = db.execute("SELECT decision FROM decisions WHERE seq = 3").fetchone()[0]
        db.execute(
            "UPDATE decisions SET decision = ? WHERE seq = 3",
            (bytes(raw).replace(b'"allow"', b'"deny"'),),
        )
        previous = db.execute("SELECT chain FROM decisions WHERE seq = 2").fetchone()[0]
        _rechain(db, 3, bytes(previous))
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    assert engine.find("shop", "p2") is None
    engine.dedupe.seen.clear()
    assert engine.log.find("shop", "p2") is None
    assert engine.find("shop", "s1") is not None  # the record before it still is
    engine.close()
    code, output = _verify(tmp_path)
    assert code == 1 and "TAMPERED commit_seals: commit seal does not match at 3" in output


def test_upkeep_leaves_verify_clean(tmp_path: Path) -> None:
    """Compaction, thinning, erasure and a label's erasure are not tampering."""
    _journal(tmp_path)
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path), retention="1d",
                         retention_quiet="1h")  # fmt: skip
    engine.label({"tenant": "shop", "kind": "fraud", "entity_kind": "account", "entity": "a5"})
    engine.erase("shop", "account", "a5", raw=False)
    engine.decide(event("sms.send", "late", 3 * 86400.0, phone="13800000001"))
    counts = engine.compact(now=event("sms.send", "x", 3 * 86400.0 + 60)["time"].timestamp())
    assert counts["deleted"] == EVENTS  # the case.labels are dated when known: now
    engine.close()
    code, output = _verify(tmp_path)
    assert code == 0, output
    assert hashlib.sha256((tmp_path / "decisions.db.head").read_bytes()).digest()


def test_a_crash_between_seal_and_commit_is_no_alarm(tmp_path: Path) -> None:
    """The head file was sealed for a commit that never landed (killed, disk full): the
    journal ends at the seal's confirmed heads, which is fine, and the next start goes on."""
    _journal(tmp_path)
    log = SqliteDecisionLog(tmp_path / "decisions.db", read_only=True)
    confirmed = chain_heads(log.reader())
    log.close()
    lost = {**confirmed, "decisions": (N + 1, bytes(range(32)))}
    heads = HeadFile(tmp_path / "decisions.db.head", audit_key(tmp_path))
    heads.advance(confirmed, lost)  # sealed, then the process died before COMMIT
    assert heads.read() is not None and heads.read().pending == lost  # type: ignore[union-attr]
    assert _verify(tmp_path)[0] == 0
    engine = make_engine(decision_log="sqlite", data_dir=str(tmp_path))
    engine.decide(event("sms.send", "after", 900.0, phone="13800000002"))
    engine.close()
    code, output = _verify(tmp_path)
    assert code == 0, output


def test_adopt_seals_a_journal_without_a_head_file(tmp_path: Path) -> None:
    """A journal from before sealed heads (here: its head file removed) fails verify, a
    restart keeps the alarm, and `audit adopt` (an operator vouching for it) clears it."""
    _journal(tmp_path)
    (tmp_path / "decisions.db.head").unlink()
    make_engine(decision_log="sqlite", data_dir=str(tmp_path)).close()
    code, output = _verify(tmp_path)
    assert code == 1 and "TAMPERED heads: head file missing when the journal was opened" in output
    adopted = CliRunner().invoke(app, ["audit", "adopt", "--data-dir", str(tmp_path)])
    assert adopted.exit_code == 0, adopted.output
    assert _verify(tmp_path)[0] == 0
