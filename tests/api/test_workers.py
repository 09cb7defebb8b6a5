"""`shopguard serve --workers 2` as operators run it: two real worker processes on one
port over a Redis of the test's own and the machine's PostgreSQL (tests/api/cluster.py).
One cluster serves every test of this module (starting it is the slow part); the test
that stops Redis runs last."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from shopguard.cli import app as cli
from tests.api.cluster import (
    PROPAGATE,
    SLACK,
    WORKER,
    Cluster,
    payment,
    running_cluster,
    settings_env,
    sms,
    wait_for,
)
from tests.conftest import TEST_KEYS
from tests.rules.test_versions import DENY_SMS
from tests.servers import need_service


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    need_service("PostgreSQL", 5432)
    with running_cluster(tmp_path_factory.mktemp("workers")) as found:
        yield found


def _reaches(condition: Callable[[], bool]) -> float:
    """Seconds until ``condition`` holds, failing past propagate_every and the slack."""
    started = time.monotonic()
    wait_for(condition, PROPAGATE + SLACK)
    took = time.monotonic() - started
    print(f"reached in {took:.3f}s")  # pytest -s shows them: figures for the report
    return took


def test_several_workers_over_per_process_state_or_journal_are_refused(tmp_path: Path) -> None:
    env = {"SHOPGUARD_KEYS": "k1:" + TEST_KEYS["k1"]}
    memory = CliRunner().invoke(
        cli, ["serve", "--workers", "2", "--data-dir", str(tmp_path)], env=env
    )
    assert memory.exit_code == 2
    assert "needs a shared state store" in memory.output and "Traceback" not in memory.output
    env["SHOPGUARD_STATE_STORE"] = "redis"
    sqlite = CliRunner().invoke(
        cli, ["serve", "--workers", "2", "--data-dir", str(tmp_path)], env=env
    )
    assert sqlite.exit_code == 2 and "needs a shared journal" in sqlite.output
    assert not (tmp_path / "decisions.db").exists()  # refused before anything was made


def test_a_second_service_on_the_same_port_is_refused(cluster: Cluster) -> None:
    port = cluster.url.rsplit(":", 1)[1]
    command = ["serve", "--workers", "2", "--port", port, "--data-dir", str(cluster.data)]
    second = CliRunner().invoke(cli, command, env=settings_env(cluster.redis, cluster.schema))
    assert second.exit_code == 2, second.output
    assert f"cannot listen on 127.0.0.1:{port}" in second.output
    assert len(second.output.strip().splitlines()) == 1  # one line, no traceback


def test_one_event_sent_to_both_workers_at_once_is_decided_once(cluster: Cluster) -> None:
    first, second = cluster.on(0), cluster.on(1)
    for round_ in range(5):
        event = payment(f"same-{round_}", account=f"twice{round_}")
        meet = threading.Barrier(2)

        def send(
            client: httpx.Client, event: dict[str, object] = event, meet: Any = meet
        ) -> httpx.Response:
            meet.wait()
            return client.post("/v1/decisions", json=event, headers=cluster.admin)

        with ThreadPoolExecutor(2) as pool:
            answers = list(pool.map(send, [first, second]))
        assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
        assert sorted(a.headers[WORKER] for a in answers) == ["0", "1"]
        assert answers[0].json() == answers[1].json()
        assert cluster.records(str(event["event_id"])) == 1


def test_a_list_entry_added_on_one_worker_reaches_the_other(cluster: Cluster) -> None:
    adder, other = cluster.on(0), cluster.on(1)
    entry = {"list": "deny", "kind": "phone", "value": "13911110000", "reason": "workers test"}
    added = adder.post("/v1/lists", json=entry, headers=cluster.admin)
    assert added.status_code == 201, added.text

    def listed() -> bool:
        answer = other.get("/v1/lists", params={"list": "deny"}, headers=cluster.admin)
        assert answer.headers[WORKER] == "1"
        return added.json()["value"] in [e["value"] for e in answer.json()["entries"]]

    _reaches(listed)
    denied = other.post("/v1/decisions", json=sms("listed-1", "13911110000"), headers=cluster.admin)
    assert denied.headers[WORKER] == "1" and denied.json()["outcome"] == "deny", denied.text


def test_a_revoked_key_is_refused_by_every_worker(cluster: Cluster) -> None:
    made = CliRunner().invoke(
        cli,
        [
            "keys",
            "create",
            "--tenant",
            "shop",
            "--scope",
            "decide",
            "--data-dir",
            str(cluster.data),
        ],
        env=settings_env(cluster.redis, cluster.schema),
    )
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    kid = secret.split("_")[1]
    workers = [cluster.on(0), cluster.on(1)]
    key = {"x-api-key": secret}

    def answered(status: int) -> Callable[[], bool]:
        return lambda: all(w.get("/v1/lists", headers=key).status_code == status for w in workers)

    _reaches(answered(200))  # a new key: known everywhere
    revoked = CliRunner().invoke(
        cli,
        ["keys", "revoke", kid, "--data-dir", str(cluster.data)],
        env=settings_env(cluster.redis, cluster.schema),
    )
    assert revoked.exit_code == 0, revoked.output
    _reaches(answered(401))


def test_a_promoted_ruleset_runs_on_every_worker(cluster: Cluster) -> None:
    author, other = cluster.on(0), cluster.on(1)
    uploaded = author.post("/v1/rulesets", json={"text": DENY_SMS}, headers=cluster.admin)
    assert uploaded.status_code == 201, uploaded.text
    number = uploaded.json()["number"]
    name = f"r{number}+{uploaded.json()['digest'][:10]}"  # the version's name (rules/trail.py)
    shadowed = author.post(f"/v1/rulesets/{number}:shadow", headers=cluster.admin)
    assert shadowed.status_code == 200, shadowed.text
    promoted = author.post("/v1/rulesets:promote", headers=cluster.admin)
    assert promoted.status_code == 200 and promoted.json()["champion"] == number
    _reaches(lambda: other.get("/readyz").json()["ruleset"] == name)
    decided = other.post(
        "/v1/decisions", json=sms("promoted-1", "13922220000"), headers=cluster.admin
    )
    assert decided.headers[WORKER] == "1" and decided.json()["ruleset_version"] == name


def test_a_published_model_scores_on_every_worker(cluster: Cluster) -> None:
    from shopguard.model.gbm import GbmScorer
    from shopguard.registries import open_models
    from shopguard.settings import load_settings
    from tests.model.test_registry import _model

    env = settings_env(cluster.redis, cluster.schema)
    models = open_models(load_settings(None, {"data_dir": str(cluster.data)}, env=env))
    text, card = _model(3)
    version = models.register(text, card, "workers test").version
    GbmScorer(models.check(version))  # compiled once, as `shopguard train` does: loads at once
    models.change("champion", "workers test", version)
    models.close()
    workers = [cluster.on(0), cluster.on(1)]

    def scored() -> bool:  # a card and account of their own: no list entry decides first
        answers = []
        for worker in workers:
            event_id = f"scored-{secrets.token_hex(4)}"
            card = f"62220200{secrets.randbelow(10**8):08d}"
            event = payment(event_id, account=event_id, card=card)
            answers.append(worker.post("/v1/decisions", json=event, headers=cluster.admin))
        assert [a.headers[WORKER] for a in answers] == ["0", "1"]
        return all(a.json().get("model_score") is not None for a in answers)

    _reaches(scored)


def _worker_of(sock: socket.socket) -> str:
    """Which worker serves this raw connection (one request on it, kept alive)."""
    sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
        answer += sock.recv(4096)
    named = [line for line in answer.split(b"\r\n") if line.lower().startswith(WORKER.encode())]
    return named[0].split(b":")[1].strip().decode()


def test_every_worker_closes_a_connection_whose_headers_trickle(cluster: Cluster) -> None:
    host, port = cluster.url.removeprefix("http://").split(":")
    seen: dict[str, bytes] = {}
    for _ in range(200):
        if len(seen) == 2:
            break
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            worker = _worker_of(sock)
            if worker in seen:
                continue
            sock.sendall(b"GET /healthz HTTP/1.1\r\nhost: x\r\n")  # and no more
            answer = b""
            with contextlib.suppress(TimeoutError):
                while chunk := sock.recv(4096):
                    answer += chunk
            seen[worker] = answer
    assert sorted(seen) == ["0", "1"]
    assert all(a.startswith(b"HTTP/1.1 408") for a in seen.values()), seen


def _load(cluster: Cluster, thread: int, stop: threading.Event, acked: list[str]) -> None:
    """Unique payments until told to stop; each retried (the same event id) on a lost
    connection or a 503, as a client does; acknowledged ids are kept."""
    with httpx.Client(base_url=cluster.url, timeout=10) as client:
        for i in range(100_000):
            if stop.is_set():
                return
            event = payment(f"load-{thread}-{i}", account=f"acct{i % 7}")
            for _ in range(40):
                try:
                    answer = client.post("/v1/decisions", json=event, headers=cluster.admin)
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                if answer.status_code == 200:
                    acked.append(str(event["event_id"]))
                    break
                assert answer.status_code == 503, answer.text
                time.sleep(0.05)


def test_a_worker_killed_mid_load_loses_and_doubles_nothing(cluster: Cluster) -> None:
    victim = cluster.on(1).get("/readyz").json()["pid"]
    stop, acked = threading.Event(), []
    threads = [threading.Thread(target=_load, args=(cluster, t, stop, acked)) for t in range(4)]
    for thread in threads:
        thread.start()
    wait_for(lambda: len(acked) >= 100, 30)
    os.kill(victim, signal.SIGKILL)
    at_kill = len(acked)
    wait_for(lambda: len(acked) >= at_kill + 200, 30)  # the other worker kept answering
    replaced = wait_for(lambda: cluster.on(1).get("/readyz").json()["pid"] != victim, 60)
    assert replaced
    stop.set()
    for thread in threads:
        thread.join(30)
    counts = dict(
        cluster.journal(
            "SELECT event_id, count(*) FROM {s}.decisions WHERE event_id LIKE 'load-%%'"
            " GROUP BY event_id"
        )
    )
    assert len(acked) == len(set(acked))
    assert [(e, counts.get(e)) for e in acked if counts.get(e) != 1] == []  # lost, doubled
    assert [e for e, n in counts.items() if n != 1] == []


def test_readyz_names_the_dependency_that_is_down(cluster: Cluster) -> None:
    client = cluster.on(0)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert set(ready.json()["dependencies"]) == {"journal", "state", "registries", "changes"}
    cluster.redis.kill()
    try:
        for worker in (0, 1):  # each worker checks for itself
            client = cluster.on(worker)

            def state_down(client: httpx.Client = client) -> dict[str, Any] | None:
                answer = client.get("/readyz")
                body: dict[str, Any] = answer.json()
                down = body["dependencies"]["state"]["status"] == "down"
                return body if answer.status_code == 503 and down else None

            body = wait_for(state_down, 10)
            assert body["status"] == "not ready" and body["reason"].startswith("state: ")
            assert body["dependencies"]["journal"] == {"status": "up"}
            assert body["dependencies"]["registries"] == {"status": "up"}
    finally:
        cluster.redis.start()
    wait_for(lambda: cluster.on(0).get("/readyz").status_code == 200, 10)
    wait_for(lambda: cluster.on(1).get("/readyz").status_code == 200, 10)
