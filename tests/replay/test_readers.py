"""Files as they come: any delimiter, quoting and encoding, gzip by its bytes, Parquet
streamed by batches, files without a header row."""

from __future__ import annotations

import gzip
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from shopguard.replay.readers import Table
from tests.replay.helpers import DATA, events, mapping, raw, write

CHECKOUT = (
    "tenant: shop\nfile: {delimiter: '|', encoding: cp1252}\nevents:\n  - type: payment\n"
    "    event_id: '{order}'\n    time: {column: placed at, format: '%d.%m.%Y %H:%M'}\n"
    "    fields:\n      account: shopper\n      amount: total\n      address: note\n"
    "      attributes.self_checkout: {column: self checkout, type: bool}\n"
    "      attributes.trust_level: {column: trust, type: number}\n"
)


def test_a_pipe_delimited_cp1252_file_with_quotes_and_crlf() -> None:
    pairs = events(DATA / "checkout_pipe_cp1252.csv", mapping(CHECKOUT))
    first, second, third = (event for event, _ in pairs)
    assert first.account == "Renée" and second.account == "Zoë"
    assert first.address == "fragile | glass"  # a quoted cell keeps its delimiter
    assert third.address is None  # an empty cell: absent
    assert first.attributes == {"self_checkout": True, "trust_level": 3}
    assert third.attributes == {"self_checkout": True, "trust_level": 2}
    assert first.amount == 12.5  # type: ignore[attr-defined]


def test_quoting_none_reads_quote_characters_as_data(tmp_path: Path) -> None:
    source = write(tmp_path / "q.tsv", 'id\twhen\tua\n1\t2025-03-01T00:00:00Z\t"Mozilla/5.0\n')
    spec = mapping(
        'tenant: t\nfile: {delimiter: "\\t", quoting: none}\nevents:\n'
        "  - {type: account.login, event_id: '{id}', time: when, fields: {user_agent: ua}}\n"
    )
    assert raw(source, spec)[0]["user_agent"] == '"Mozilla/5.0'


def test_gzip_is_read_by_its_bytes_whatever_the_name(tmp_path: Path) -> None:
    text = "id,when,amt\n1,2025-03-01T00:00:00Z,3\n2,2025-03-01T00:00:01Z,4\n"
    for name in ("pay.csv.gz", "pay.csv"):
        (tmp_path / name).write_bytes(gzip.compress(text.encode()))
        spec = mapping(
            "tenant: t\nevents:\n  - {type: payment, event_id: '{id}', time: when, "
            "fields: {amount: amt}}\n"
        )
        assert [e["amount"] for e in raw(tmp_path / name, spec)] == [3.0, 4.0]


def test_parquet_streams_by_batches_and_reads_only_mapped_columns(tmp_path: Path) -> None:
    n = 20_000  # more than one record batch
    table = pa.table(
        {
            "tx": pa.array(range(n)),
            "ts": pa.array([1_741_000_000_000 + i for i in range(n)], pa.timestamp("ms", "UTC")),
            "customer": pa.array([f"c{i % 7}" for i in range(n)]),
            "amount": pa.array([i / 100 for i in range(n)]),
            "is_fraud": pa.array([i % 50 == 0 for i in range(n)]),
            "blob": pa.array(["x" * 100] * n),  # never read
        }
    )
    path = tmp_path / "tx.parquet"
    pq.write_table(table, path, row_group_size=5_000)
    spec = mapping(
        "tenant: t\nlabels: {is_fraud: {column: is_fraud, map: {'true': '1', 'false': '0'}}}\n"
        "events:\n  - {type: payment, event_id: 'tx-{tx}', time: ts, "
        "fields: {account: customer, amount: amount}}\n"
    )
    pairs = events(path, spec)
    assert len(pairs) == n
    event, _ = pairs[12_345]
    assert event.event_id == "tx-12345" and event.account == "c4"
    assert event.amount == 123.45  # type: ignore[attr-defined]
    assert event.time.timestamp() == 1_741_000_012.345
    assert sum(tags["is_fraud"] == "1" for _, tags in pairs) == n // 50
    rows = Table(path, spec.file, {"tx"}).rows()
    header = next(rows)[1]
    assert next(rows)[1] == ["0"] + [""] * (len(header) - 1)


def test_a_file_without_a_header_names_its_columns_in_the_mapping(tmp_path: Path) -> None:
    source = write(
        tmp_path / "raw.csv", "7;2025-03-01T00:00:00Z;alice\n8;2025-03-01T00:00:05Z;bob\n"
    )
    spec = mapping(
        "tenant: t\nfile: {delimiter: ';', columns: [n, at, who]}\nevents:\n"
        "  - {type: account.login, event_id: 'l-{n}', time: at, fields: {account: who}}\n"
    )
    assert [e["account"] for e in raw(source, spec)] == ["alice", "bob"]
