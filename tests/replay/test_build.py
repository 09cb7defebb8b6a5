"""Fields from templates and constants, row numbers as ids, files without times, label
maps, custom attributes and the casts real files need."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from shopguard.replay.background import iter_events_in_background
from tests.replay.helpers import events, mapping, raw, write

PAYMENTS = (
    "shop,till,when,amt,bad\ns1,t1,2025-03-01T10:00:00Z,5.5,1\ns2,t9,2025-03-01T10:01:00Z,7,0\n"
)


def test_a_template_joins_columns_and_a_constant_fills_every_row(tmp_path: Path) -> None:
    source = write(tmp_path / "p.csv", PAYMENTS)
    spec = mapping(
        "tenant: t\nevents:\n  - type: payment\n    event_id: 'p-{_row}'\n    time: when\n"
        "    fields:\n      terminal: {template: '{shop}-{till}'}\n"
        "      amount: {column: amt, type: float}\n      channel: {const: pos}\n"
        "      currency: {const: EUR}\n"
    )
    (first, _), (second, _) = events(source, spec)
    assert first.terminal == "s1-t1" and second.terminal == "s2-t9"  # type: ignore[attr-defined]
    assert first.channel == second.channel == "pos"
    assert first.currency == "EUR"  # type: ignore[attr-defined]


def test_a_template_with_an_empty_cell_leaves_the_field_absent(tmp_path: Path) -> None:
    source = write(tmp_path / "p.csv", "a,b,when\nx,,2025-03-01T10:00:00Z\n")
    spec = mapping(
        "tenant: t\nevents:\n  - {type: account.login, event_id: '{_row}', time: when, "
        "fields: {account: {template: '{a}/{b}'}}}\n"
    )
    assert "account" not in raw(source, spec)[0]


def test_row_numbers_are_event_ids_counted_from_the_first_row_after_the_header(
    tmp_path: Path,
) -> None:
    source = write(tmp_path / "p.csv", PAYMENTS)
    spec = mapping(
        "tenant: t\nevents:\n"
        "  - {type: account.login, event_id: 'in-{_row}', time: when, fields: {account: shop}}\n"
        "  - {type: payment, event_id: '{_row}', time: when, fields: {amount: amt}}\n"
    )
    ids = [event["event_id"] for event in raw(source, spec)]
    assert ids == ["in-1", "1", "in-2", "2"]


def test_a_file_without_times_gets_start_plus_row_times_steps(tmp_path: Path) -> None:
    source = write(
        tmp_path / "r.csv", "ip,mail\n1.2.3.4,a@x.org\n1.2.3.5,b@x.org\n5.6.7.8,c@y.org\n"
    )
    spec = mapping(
        "tenant: t\nevents:\n  - type: account.register\n    event_id: 'r-{_row}'\n"
        "    time: {none: true, start: '2025-01-01T00:00:00Z', step: 1m}\n"
        "    fields: {ip: ip, email: mail}\n"
    )
    times = [e.time for e, _ in events(source, spec)]
    start = datetime(2025, 1, 1, tzinfo=UTC)
    assert [(t - start).total_seconds() for t in times] == [0.0, 60.0, 120.0]


def test_label_maps_turn_words_into_what_training_reads(tmp_path: Path) -> None:
    source = write(
        tmp_path / "r.csv",
        "id,when,EVENT_LABEL,kind\n1,1700000000,fraud,a\n2,1700000001,legit,b\n3,1700000002,,c\n",
    )
    spec = mapping(
        "tenant: t\nevents:\n  - {type: account.register, event_id: '{id}', "
        "time: {column: when, format: epoch_s}}\n"
        "labels:\n  is_fraud: {column: EVENT_LABEL, map: {fraud: '1', legit: '0'}}\n  kind: kind\n"
    )
    pairs = events(source, spec)
    assert [tags for _, tags in pairs] == [
        {"is_fraud": "1", "kind": "a"},
        {"is_fraud": "0", "kind": "b"},
        {"kind": "c"},  # an empty cell is no label, not an unlisted value
    ]
    assert pairs[0][0].time == datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)
    # replay's reader process carries the same labels, the unlabelled row's without one
    read = [tags for _, tags in iter_events_in_background(source, spec)]
    assert read == [tags for _, tags in pairs]


def test_the_list_form_of_labels_still_names_columns(tmp_path: Path) -> None:
    source = write(tmp_path / "p.csv", PAYMENTS)
    spec = mapping(
        "tenant: t\nlabels: [bad]\nevents:\n"
        "  - {type: payment, event_id: '{_row}', time: when, fields: {amount: amt}}\n"
    )
    assert [tags for _, tags in events(source, spec)] == [{"bad": "1"}, {"bad": "0"}]


def test_columns_fill_custom_attributes_with_their_types(tmp_path: Path) -> None:
    source = write(
        tmp_path / "s.csv",
        "sid,when,trust,voided,unscanned,lane\n1,1741000000000,3,2,Y,L7\n2,1741000001000,1,0,no,\n",
    )
    spec = mapping(
        "tenant: t\nevents:\n  - type: payment\n    event_id: 'co-{sid}'\n"
        "    time: {column: when, format: epoch_ms}\n"
        "    fields:\n      amount: {const: 0.0}\n"
        "      attributes.trust_level: {column: trust, type: number}\n"
        "      attributes.voided_items: {column: voided, type: int}\n"
        "      attributes.unscanned: {column: unscanned, type: bool}\n"
        "      attributes.lane: lane\n      attributes.source: {const: self_checkout}\n"
    )
    (first, _), (second, _) = events(source, spec)
    assert first.attributes == {
        "trust_level": 3,
        "voided_items": 2,
        "unscanned": True,
        "lane": "L7",
        "source": "self_checkout",
    }
    assert second.attributes == {
        "trust_level": 1,
        "voided_items": 0,
        "unscanned": False,
        "source": "self_checkout",
    }  # an empty cell: the attribute is absent
    assert first.time == datetime(2025, 3, 3, 11, 6, 40, tzinfo=UTC)


def test_flag_spellings_value_maps_and_missing_spellings(tmp_path: Path) -> None:
    source = write(
        tmp_path / "l.csv",
        "id,when,ok,how\n1,2025-03-01 10:00:00,Y,pwd\n2,2025-03-01 10:00:01,0,NA\n"
        "3,2025-03-01 10:00:02,yes,otp\n",
    )
    spec = mapping(
        "tenant: t\nfile: {missing: ['', NA]}\nevents:\n  - type: account.login\n"
        "    event_id: '{id}'\n    time: {column: when, format: '%Y-%m-%d %H:%M:%S'}\n"
        "    fields:\n      success: {column: ok, type: bool}\n"
        "      method: {column: how, map: {pwd: password, otp: sms}}\n"
    )
    logins = [e for e, _ in events(source, spec)]
    assert [e.success for e in logins] == [True, False, True]  # type: ignore[attr-defined]
    assert [e.method for e in logins] == ["password", None, "sms"]  # type: ignore[attr-defined]


def test_times_written_without_a_zone_take_the_mappings_zone(tmp_path: Path) -> None:
    source = write(tmp_path / "p.csv", "id,when\n1,2025-03-01 10:00\n2,2025-03-01T10:00:00Z\n")
    spec = mapping(
        "tenant: t\nevents:\n  - {type: account.login, event_id: '{id}', "
        "time: {column: when, zone: '+08:00'}}\n"
    )
    times = [e.time.astimezone(UTC) for e, _ in events(source, spec)]
    assert times == [datetime(2025, 3, 1, 2, tzinfo=UTC), datetime(2025, 3, 1, 10, tzinfo=UTC)]
    paris = mapping(
        "tenant: t\nevents:\n  - {type: account.login, event_id: '{id}', "
        "time: {column: when, zone: Europe/Paris}}\n"
    )
    assert events(source, paris)[0][0].time.astimezone(UTC).hour == 9
