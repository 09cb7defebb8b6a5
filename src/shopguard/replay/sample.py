"""The first rows of an unknown file, and how to read it: encoding, delimiter, whether
the first row is a header. For ``shopguard mapping draft``; every guess is written into
the drafted mapping, where the user can see and correct it."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path

import msgspec

from shopguard.replay.mapping import FileSpec
from shopguard.replay.readers import Table, sniff_kind

_SAMPLE_BYTES = 256 * 1024
_DELIMITERS = ",;|\t"
_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes anything: the last resort
_MISSING = {"NA", "N/A", "null", "NULL", "None", "nan", "NaN", "-"}


class Sample(msgspec.Struct):
    kind: str  # csv, gzip or parquet
    file: FileSpec
    header: list[str]
    rows: list[list[str]]
    guessed_header: bool = False  # the file has none: column names were made up


def _head_bytes(path: Path, kind: str) -> bytes:
    if kind == "gzip":
        with gzip.open(path, "rb") as handle:
            return handle.read(_SAMPLE_BYTES)
    with path.open("rb") as handle:
        return handle.read(_SAMPLE_BYTES)


def _decode(data: bytes) -> tuple[str, str]:
    for encoding in _ENCODINGS:
        try:
            return encoding, data.decode(encoding)
        except UnicodeDecodeError as exc:
            # a multi-byte character cut by the sample's end is not a wrong encoding
            if exc.start >= len(data) - 4:
                return encoding, data[: exc.start].decode(encoding)
    return "latin-1", data.decode("latin-1")


def _delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the same number (> 1) of cells."""
    lines = [line for line in text.splitlines()[:50] if line.strip()]
    if len(lines) > 1:
        lines = lines[:-1]  # the last may be cut by the sample's end
    best, best_width = ",", 1
    for delimiter in _DELIMITERS:
        widths = {len(row) for row in csv.reader(lines, delimiter=delimiter)}
        if len(widths) == 1 and (width := widths.pop()) > best_width:
            best, best_width = delimiter, width
    return best


def _numeric(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def read_sample(path: Path, limit: int = 2000) -> Sample:
    kind = sniff_kind(path)
    if kind == "parquet":
        table = Table(path, FileSpec(format="parquet"))
        rows: list[list[str]] = []
        for number, row in table.rows():
            if number:
                rows.append(row)
            if len(rows) >= limit:
                break
        return Sample(kind, FileSpec(format="parquet"), table.header, rows)
    data = _head_bytes(path, kind)
    encoding, text = _decode(data)
    delimiter = _delimiter(text)
    lines = text.splitlines()
    if len(data) == _SAMPLE_BYTES:
        lines = lines[:-1]  # cut by the sample's end
    parsed = [row for row in csv.reader(lines, delimiter=delimiter) if row]
    first = parsed[0] if parsed else []
    # a header names columns: a first row of numbers is data
    headless = bool(first) and sum(map(_numeric, first)) > len(first) / 2
    header = [f"col{i + 1}" for i in range(len(first))] if headless else first
    body = parsed if headless else parsed[1:]
    body = [row for row in body if len(row) == len(header)][:limit]
    missing = ["", *sorted({c for row in body for c in row if c in _MISSING})]
    spec = FileSpec(
        format="csv",
        delimiter=delimiter,
        encoding=encoding,
        columns=header if headless else None,
        missing=missing,
    )
    return Sample(kind, spec, header, body, guessed_header=headless)
