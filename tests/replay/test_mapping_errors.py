"""Every mapping error is one line naming the file, row and column (or the place in the
mapping), from the CLI without a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from shopguard.cli import app
from tests.replay.helpers import write

PAYMENTS = (
    "id,when,amt,who\n1,2025-03-01 10:00:00,5.5,a\n2,2025-03-01 10:00:01,7,b\n3,01/03/2025,x,c\n"
)
GOOD = (
    "{type: payment, event_id: 'p-{id}', time: {column: when, format: '%Y-%m-%d %H:%M:%S'}, "
    "fields: {amount: amt}}"
)


def replay(tmp_path: Path, source: str, mapping: str, *flags: str) -> str:
    """The replay's error line (status 2, no traceback)."""
    csv = write(tmp_path / "pay.csv", source)
    spec = write(tmp_path / "map.yaml", mapping)
    result = CliRunner().invoke(app, ["replay", str(csv), "--mapping", str(spec), *flags])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)  # typer.Exit(2), nothing escaped
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and result.stderr.rstrip().endswith(lines[0]), result.stderr
    return lines[0]


@pytest.mark.parametrize("reader", [[], ["--no-reader"]])
def test_a_bad_number_names_row_and_column(tmp_path: Path, reader: list[str]) -> None:
    source = PAYMENTS.replace("01/03/2025", "2025-03-01 10:00:02")
    line = replay(tmp_path, source, f"tenant: t\nevents:\n  - {GOOD}\n", *reader)
    assert "pay.csv row 3, column 'amt': amount: could not convert string to float: 'x'" in line


def test_a_wrong_time_format_names_row_and_column(tmp_path: Path) -> None:
    source = PAYMENTS.replace(",x,", ",1,")
    line = replay(tmp_path, source, f"tenant: t\nevents:\n  - {GOOD}\n", "--no-reader")
    assert "pay.csv row 3, column 'when': time '01/03/2025' is not '%Y-%m-%d %H:%M:%S'" in line


def test_a_missing_column_names_it_and_lists_the_header(tmp_path: Path) -> None:
    mapping = f"tenant: t\nevents:\n  - {GOOD.replace('amount: amt', 'amount: AMOUNT')}\n"
    line = replay(tmp_path, PAYMENTS, mapping)
    assert "payment field amount: no column 'AMOUNT' in the header" in line
    assert "it has id, when, amt, who" in line


def test_an_unknown_event_type_is_refused_at_load(tmp_path: Path) -> None:
    line = replay(tmp_path, PAYMENTS, f"tenant: t\nevents:\n  - {GOOD.replace('payment', 'pay')}\n")
    assert "events[0] (pay): unknown event type 'pay'; one of account.register" in line


def test_a_field_the_type_lacks_is_refused_at_load(tmp_path: Path) -> None:
    mapping = (
        f"tenant: t\nevents:\n  - {GOOD.replace('amount: amt', 'amount: amt, trustLevel: who')}\n"
    )
    line = replay(tmp_path, PAYMENTS, mapping)
    assert "events[0] (payment): field trustLevel: payment has no field 'trustLevel'" in line


@pytest.mark.parametrize(
    ("field", "said"),
    [
        ("device.serial: who", "field device.serial: one of device.id, device.emulator"),
        ("attributes.TrustLevel: who", "field attributes.TrustLevel: attributes.NAME"),
        ("amount: {column: amt, type: money}", "unknown type 'money'; one of str, int"),
        ("amount: {column: amt, const: 1}", "field amount: give one of column, template, const"),
    ],
)
def test_field_specs_are_checked_at_load(tmp_path: Path, field: str, said: str) -> None:
    mapping = f"tenant: t\nevents:\n  - {GOOD.replace('amount: amt', field)}\n"
    assert said in replay(tmp_path, PAYMENTS, mapping)


def test_an_unknown_key_in_the_mapping_names_it_and_where(tmp_path: Path) -> None:
    line = replay(
        tmp_path, PAYMENTS, f"tenant: t\nevents:\n  - {GOOD.replace('fields', 'feilds')}\n"
    )
    assert "unknown key 'feilds' at $.events[0]" in line


def test_bad_yaml_is_one_line(tmp_path: Path) -> None:
    line = replay(tmp_path, PAYMENTS, "tenant: t\nevents: [\n")
    assert "not valid YAML" in line


@pytest.mark.parametrize("reader", [[], ["--no-reader"]])
def test_an_event_the_catalog_refuses_names_the_row_and_field_path(
    tmp_path: Path, reader: list[str]
) -> None:
    source = PAYMENTS.replace(",x,", ",-4,")  # an amount below zero
    line = replay(
        tmp_path,
        source.replace("01/03/2025", "2025-03-01 10:00:02"),
        f"tenant: t\nevents:\n  - {GOOD}\n",
        *reader,
    )
    assert "pay.csv row 3, column 'amt': payment event: $.amount: Expected `float` >= 0.0" in line


def test_a_ragged_row_is_named(tmp_path: Path) -> None:
    source = PAYMENTS.replace("01/03/2025", "2025-03-01 10:00:02").replace(",x,", ",1,")
    line = replay(tmp_path, source + "4,2025-03-01 10:00:03\n", f"tenant: t\nevents:\n  - {GOOD}\n")
    assert "pay.csv row 4: 2 cells, the header has 4" in line


def test_an_unlisted_label_value_names_row_and_column(tmp_path: Path) -> None:
    source = PAYMENTS.replace("01/03/2025", "2025-03-01 10:00:02").replace(",x,", ",1,")
    labels = "labels: {bad: {column: who, map: {a: '1', b: '0'}}}\n"
    mapping = f"tenant: t\nevents:\n  - {GOOD}\n{labels}"
    line = replay(tmp_path, source, mapping, "--no-reader")
    assert "row 3, column 'who': label bad: 'c' is not in its map (a, b)" in line


def test_a_file_in_another_encoding_says_which_option_to_set(tmp_path: Path) -> None:
    csv = tmp_path / "pay.csv"
    csv.write_bytes("id,when,amt,who\n1,2025-03-01 10:00:00,5.5,Ren\xe9e\n".encode("cp1252"))
    spec = write(tmp_path / "map.yaml", f"tenant: t\nevents:\n  - {GOOD}\n")
    result = CliRunner().invoke(app, ["mapping", "check", str(csv), "--mapping", str(spec)])
    assert result.exit_code == 2
    assert "not utf-8-sig" in result.stderr and "file: {encoding: ...}" in result.stderr


def test_mapping_check_names_the_first_event_that_would_not_decode(tmp_path: Path) -> None:
    csv = write(
        tmp_path / "pay.csv",
        PAYMENTS.replace("01/03/2025", "2025-03-01 10:00:02").replace(",x,", ",-1,"),
    )
    spec = write(tmp_path / "map.yaml", f"tenant: t\nevents:\n  - {GOOD}\n")
    result = CliRunner().invoke(app, ["mapping", "check", str(csv), "--mapping", str(spec)])
    assert result.exit_code == 2
    assert "pay.csv row 3, column 'amt': payment event: $.amount" in result.stderr
    result = CliRunner().invoke(
        app, ["mapping", "check", str(csv), "--mapping", str(spec), "--limit", "2"]
    )
    assert result.exit_code == 0 and "2 rows, 2 events: every one decodes" in result.stderr


def test_a_flag_in_no_known_spelling_names_row_and_column(tmp_path: Path) -> None:
    source = "id,when,ok\n1,2025-03-01T10:00:00Z,Y\n2,2025-03-01T10:00:01Z,maybe\n"
    mapping = (
        "tenant: t\nevents:\n  - {type: account.login, event_id: 'l-{id}', time: when, "
        "fields: {success: ok}}\n"  # a bool field of the catalog: cast as a flag
    )
    line = replay(tmp_path, source, mapping)
    assert "row 2, column 'ok': success: 'maybe' is not a flag (yes/no" in line


def test_an_unknown_time_zone_is_refused_at_load(tmp_path: Path) -> None:
    mapping = f"tenant: t\nevents:\n  - {GOOD.replace('format:', 'zone: Mars/Olympus, format:')}\n"
    assert "time: unknown time zone 'Mars/Olympus'" in replay(tmp_path, PAYMENTS, mapping)
