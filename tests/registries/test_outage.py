"""PostgreSQL stopped under the registries (a server of the test's own, killed with
SIGKILL and started again): keys already read keep being checked, a change fails as
StorageUnavailable (a 503, nothing recorded), and once it is back the feed says resync
and every registry carries on, on new connections."""

from __future__ import annotations

import queue
import time
from pathlib import Path

import pytest

from shopguard.api.keys_pg import PgKeys
from shopguard.errors import StorageUnavailable
from shopguard.registries import Change, ChangeFeed
from shopguard.registries.postgres import Where
from shopguard.rules.versions_pg import PgRulesets
from tests.servers import postgres_server


def test_registries_ride_out_a_postgres_restart(tmp_path: Path) -> None:
    with postgres_server(tmp_path) as server:
        where = Where(server.dsn, "pgreg_outage", 1.0)
        keys, rulesets = PgKeys(where), PgRulesets(where, b"k" * 32)
        key, secret = keys.create("shop", ["decide"])
        rulesets.upload("rules: []\n", "ana")
        changes: queue.Queue[Change] = queue.Queue()
        feed = ChangeFeed(where, retry_every=0.2)
        feed.subscribe(changes.put, ["keys"])
        feed.start(wait=5.0)

        server.kill()
        time.sleep(0.6)  # past RECHECK: the key cache looks, fails, keeps what it had
        assert keys.verify(secret) == key
        with pytest.raises(StorageUnavailable):
            rulesets.change("publish", "ana", 1)

        server.start()
        assert changes.get(timeout=10.0) == Change("keys", "resync")
        assert rulesets.change("publish", "ana", 1).champion == 1
        assert rulesets.verify().ok and rulesets.verify().records == 2
        other = PgKeys(where)
        other.revoke(key.id)
        keys.stale()  # what the feed's subscriber does on hearing it
        assert keys.verify(secret) is None
        for store in (keys, other, rulesets):
            store.close()
        feed.close()
