"""The nats source against the machine's NATS JetStream (127.0.0.1:4222): the stream and
durable consumer made when absent, fetch / ack / nak / reject, and publications a
decisions stream keeps once per Nats-Msg-Id however often they are sent."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopguard import Engine
from shopguard.sources import Message, Output, SourceUnavailable, make_source
from shopguard.sources.ingest import decide_batch
from shopguard.sources.nats import NatsSource, tenant_token
from tests.conftest import TEST_KEYS, event
from tests.servers import free_port, need_service
from tests.sources.streams import (
    MACHINE_NATS,
    Names,
    add_stream,
    drop_streams,
    publish,
    subject_counts,
)


@pytest.fixture
def names() -> Iterator[Names]:
    need_service("NATS", 4222)
    names = Names()
    yield names
    drop_streams(MACHINE_NATS, names.stream, names.stream + "_OUT")


def _source(names: Names, ack_wait: float = 30.0) -> NatsSource:
    source = make_source("nats", ack_wait=ack_wait, **names.options())
    assert isinstance(source, NatsSource)
    return source


def test_fetch_ack_and_nothing_comes_again(names: Names) -> None:
    source = _source(names)  # creates the stream
    try:
        publish(MACHINE_NATS, f"{names.events}.shop", [b'{"n":%d}' % i for i in range(5)])
        got = source.fetch(10, 1.0)
        while len(got) < 5:
            more = source.fetch(10, 1.0)
            assert more, "published messages did not arrive"
            got += more
        assert [m.data for m in got] == [b'{"n":%d}' % i for i in range(5)]
        assert next(m.where for m in got) == f"{names.stream} seq 1"
        source.ack(got)
        assert source.fetch(10, 0.3) == []
    finally:
        source.close()
    again = _source(names, ack_wait=0.5)  # the durable remembers: acked is done with
    try:
        assert again.fetch(10, 0.8) == []
    finally:
        again.close()


def test_nak_redelivers_and_reject_never_does(names: Names) -> None:
    source = _source(names, ack_wait=30.0)
    try:
        publish(MACHINE_NATS, f"{names.events}.shop", [b"one", b"two"])
        first = source.fetch(2, 1.0)
        assert [m.data for m in first] == [b"one", b"two"]
        assert not any(m.redelivered for m in first)
        source.reject(first[0], "malformed")
        source.nak(first[1:], 0.0)
        again = source.fetch(2, 1.0)
        assert [(m.data, m.redelivered) for m in again] == [(b"two", True)]
        source.ack(again)
        assert source.fetch(2, 0.3) == []
    finally:
        source.close()


def test_publications_per_tenant_kept_once_per_msg_id(names: Names) -> None:
    source = _source(names)
    out = names.stream + "_OUT"
    add_stream(MACHINE_NATS, out, [f"{names.decisions}.>", f"{names.alerts}.>"])
    outputs = [
        Output("decisions", "shop", "shop:e1", b"d1"),
        Output("alerts", "shop", "shop:e1:alert", b"a1"),
        Output("decisions", "b.c d", "b.c d:e1", b"d2"),
    ]
    try:
        source.publish(outputs)
        source.publish(outputs)  # an event answered again after a redelivery
        source.ack([])  # the flush that follows every batch
    finally:
        source.close()
    assert subject_counts(MACHINE_NATS, out) == {
        f"{names.decisions}.shop": 1,
        f"{names.alerts}.shop": 1,
        f"{names.decisions}.b_c_d": 1,
    }


def test_unreachable_server_is_one_error() -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    options = Names().options(url)
    with pytest.raises(SourceUnavailable, match="unreachable"):
        make_source("nats", connect_timeout=0.5, **options)


def test_tenant_token() -> None:
    assert tenant_token("shop-1_a") == "shop-1_a"
    assert tenant_token("a.b*c>d e") == "a_b_c_d_e"


def test_committed_but_not_acked_is_answered_from_the_journal(names: Names, tmp_path: Path) -> None:
    """A crash between the durable commit and the ack: the batch comes again (ack_wait)
    and the restarted engine answers it from its journal, deciding nothing twice."""
    from shopguard.sources.ingest import consume_batch

    settings = {"data_dir": str(tmp_path), "event_time": "replay", "keys": TEST_KEYS}
    events = [event("sms.send", f"e{i}", i, phone="13812345678") for i in range(20)]
    source = _source(names, ack_wait=0.5)
    try:
        publish(MACHINE_NATS, f"{names.events}.shop", events)
        engine = Engine.from_config(active_key="k1", **settings)
        got = source.fetch(20, 1.0)
        assert len(got) == 20
        decide_batch(engine, got)  # durable; then the process "dies" before its ack
        engine.close()
        engine = Engine.from_config(active_key="k1", **settings)
        counts = {"decided": 0, "again": 0, "rejected": 0}
        again: list[Message] = []
        while len(again) < 20:
            more = source.fetch(20, 2.0)
            assert more, "the unacknowledged batch did not come again"
            again += more
        assert all(m.redelivered for m in again)
        consume_batch(engine, source, again, counts)
        assert counts == {"decided": 0, "again": 20, "rejected": 0}
        assert engine.log.last_seq() == 20
        engine.close()
        assert source.fetch(20, 1.0) == []  # acknowledged this time
    finally:
        source.close()
