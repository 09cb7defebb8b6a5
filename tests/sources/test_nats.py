"""The nats source against the machine's NATS JetStream (127.0.0.1:4222): the stream and
durable consumer made when absent, fetch / ack / nak / reject, and publications a
decisions stream keeps once per Nats-Msg-Id however often they are sent."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from shopguard.sources import Output, SourceUnavailable, make_source
from shopguard.sources.nats import NatsSource, tenant_token
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
