"""`shopguard mapping draft`: a mapping from a header and a sample that loads, replays
as it is, and says what it guessed."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from shopguard.cli import app
from shopguard.replay.draft import draft_mapping
from tests.replay.helpers import DATA, events, mapping, write


def active(text: str) -> list[str]:
    """The draft's lines that are not comments."""
    return [
        line.split("#")[0].rstrip()
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
    ]


def test_a_signup_and_purchase_file_drafts_two_events_that_replay_unedited() -> None:
    text = draft_mapping(DATA / "signups.csv")
    lines = active(text)
    assert "  - type: account.register" in lines and "  - type: payment" in lines
    assert '    time: {column: signup_time, format: "%m/%d/%Y %H:%M"}' in lines
    assert "      amount: {column: purchase_value, type: float}" in lines
    assert "      ip: {column: ip_address, type: ipv4_from_number}" in lines
    assert "      device.id: device_id" in lines and "  class: class" in lines
    assert not any("sex" in line or "age:" in line for line in lines)  # personal: never mapped
    assert "      # attributes.browser: browser" in text  # unplaced: a commented suggestion
    pairs = events(DATA / "signups.csv", mapping(text))
    assert len(pairs) == 10 and [e.time for e, _ in pairs] == sorted(e.time for e, _ in pairs)
    assert {tags["class"] for _, tags in pairs} == {"0", "1"}


def test_delimiter_encoding_and_time_format_are_detected() -> None:
    text = draft_mapping(DATA / "checkout_pipe_cp1252.csv")
    assert 'file: {format: csv, delimiter: "|", encoding: "cp1252"}' in text
    assert '    time: {column: placed at, format: "%d.%m.%Y %H:%M"}' in active(text)
    assert "      amount: {column: total, type: float}" in active(text)
    assert "# attributes.self_checkout: {column: self checkout, type: bool}" in text
    pairs = events(DATA / "checkout_pipe_cp1252.csv", mapping(text))
    assert [e.account for e, _ in pairs] == ["Renée", "Zoë", "Renée"]


def test_no_id_no_time_and_word_labels_are_marked_todo(tmp_path: Path) -> None:
    source = write(
        tmp_path / "registrations.csv",
        "ip_address,email_address,EVENT_LABEL\n1.2.3.4,a@x.org,legit\n1.2.3.4,b@x.org,fraud\n",
    )
    text = draft_mapping(source)
    assert 'event_id: "{_row}"  # TODO: no unique id column found' in text
    assert "# TODO: no time column" in text
    assert 'EVENT_LABEL: {column: EVENT_LABEL, map: {fraud: "1", legit: "0"}}' in text
    pairs = events(source, mapping(text))
    assert [(e.event_id, e.email, tags["EVENT_LABEL"]) for e, tags in pairs] == [
        ("1", "a@x.org", "0"),
        ("2", "b@x.org", "1"),
    ]


def test_a_file_whose_first_row_is_data_gets_named_columns(tmp_path: Path) -> None:
    source = write(tmp_path / "raw.csv", "1,1700000000,5.5\n2,1700000060,7\n")
    text = draft_mapping(source)
    assert (
        'columns: ["col1", "col2", "col3"]' in text
        and "TODO: the first row looked like data" in text
    )
    assert len(events(source, mapping(text))) == 2


def test_parquet_is_drafted_from_its_schema(tmp_path: Path) -> None:
    path = tmp_path / "orders.parquet"
    pq.write_table(
        pa.table(
            {
                "order_id": ["o1", "o2"],
                "created": ["2025-03-01T10:00:00Z"] * 2,
                "amount": [1.5, 2.0],
            }
        ),
        path,
    )
    text = draft_mapping(path)
    assert "file: {format: parquet}" in text and '    event_id: "{order_id}"' in text
    assert [e.amount for e, _ in events(path, mapping(text))] == [1.5, 2.0]  # type: ignore[attr-defined]


def test_the_command_writes_the_draft_and_keeps_an_existing_file(tmp_path: Path) -> None:
    out = tmp_path / "signups.yaml"
    runner = CliRunner()
    result = runner.invoke(app, ["mapping", "draft", str(DATA / "signups.csv"), "--out", str(out)])
    assert result.exit_code == 0 and "TODO(s) to check" in result.stderr
    assert mapping(out.read_text()).events[0].type == "account.register"
    again = runner.invoke(app, ["mapping", "draft", str(DATA / "signups.csv"), "--out", str(out)])
    assert again.exit_code == 2 and "exists: pass --force" in again.stderr
    shown = runner.invoke(app, ["mapping", "draft", str(DATA / "signups.csv")])
    assert shown.stdout == out.read_text()


def test_drafts_of_the_shared_files_load_and_the_ecommerce_one_replays_unedited() -> None:
    from shopguard.events import decode_event
    from shopguard.replay import iter_events
    from tests.conftest import shared_file

    ecommerce = shared_file("ecommerce-fraud", "fraud_data_30k.csv")
    for path in [
        shared_file("fdh", "transactions.csv.gz"),
        *sorted(shared_file("aws-registration").glob("*.csv")),
        ecommerce.with_name("ip_to_country.csv"),
    ]:
        assert mapping(draft_mapping(path)).events, path
    text = draft_mapping(ecommerce)
    assert "TODO" not in "\n".join(active(text))
    pairs = list(iter_events(ecommerce, mapping(text)))
    assert len(pairs) == 2 * 30_189
    decoded = [decode_event(event) for event, _ in pairs]  # type: ignore[arg-type]
    assert {type(e).__struct_config__.tag for e in decoded} == {"account.register", "payment"}
    assert sum(tags["class"] == "1" for _, tags in pairs) == 2 * 2_867


def test_click_ids_that_only_look_like_ips_and_a_guessed_type_are_todo(tmp_path: Path) -> None:
    source = write(
        tmp_path / "clicks.csv",
        "ip,app,device,os,channel,click_time,is_attributed\n"
        "87540,12,1,13,497,2017-11-07 09:30:38,0\n105560,25,1,17,259,2017-11-07 13:40:27,1\n",
    )
    text = draft_mapping(source)
    assert "ip: {column: ip, type: ipv4_from_number}  # TODO: small numbers" in text
    assert "# TODO: event type guessed as account.register" in text
    assert "# attributes.channel: {column: channel, type: number}" in text  # not the catalog's
    assert len(events(source, mapping(text))) == 2


def test_an_empty_file_or_a_broken_parquet_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 and then nothing")
    for name, said in [
        ("empty.csv", "empty, no header row"),
        ("broken.parquet", "not a readable Parquet"),
    ]:
        result = CliRunner().invoke(app, ["mapping", "draft", str(tmp_path / name)])
        assert result.exit_code == 2 and said in result.stderr and "Traceback" not in result.output
