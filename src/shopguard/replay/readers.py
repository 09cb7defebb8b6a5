"""Rows of a file as lists of text cells, streamed: CSV (any delimiter, quoting and
encoding; gzip or not) and Parquet (one record batch at a time, only the columns the
mapping reads). A row's number counts from 1, the first row after the header: the
number every mapping error names."""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from shopguard.errors import ConfigError
from shopguard.replay.mapping import FileSpec

Row = list[str]
_GZIP = b"\x1f\x8b"
_PARQUET = b"PAR1"
_BATCH = 8192


def sniff_kind(path: Path) -> str:
    """parquet, gzip or csv, by the file's first bytes (a name can lie)."""
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == _PARQUET:
        return "parquet"
    return "gzip" if head[:2] == _GZIP else "csv"


@contextmanager
def open_text(path: Path, encoding: str) -> Iterator[IO[str]]:
    """The file as text, gunzipped when it is gzip (whatever its name says)."""
    if sniff_kind(path) == "gzip":
        with gzip.open(path, "rb") as raw, io.TextIOWrapper(raw, encoding, newline="") as text:
            yield text
    else:
        with path.open(encoding=encoding, newline="") as plain:
            yield plain


class Table:
    """A file's header and its rows. ``rows()`` streams (number, cells) pairs; a
    decoding error or a ragged row ends it with an error naming the row."""

    def __init__(self, path: Path, spec: FileSpec, wanted: set[str] | None = None) -> None:
        self.path, self.spec, self.wanted = path, spec, wanted
        kind = spec.format if spec.format != "auto" else sniff_kind(path)
        self.parquet = kind == "parquet"
        self.header: list[str] = self._parquet_header() if self.parquet else []

    def rows(self) -> Iterator[tuple[int, Row]]:
        if self.parquet:
            yield from self._parquet_rows()
        else:
            yield from self._csv_rows()

    def csv_header(self, handle: IO[str]) -> Iterator[Row]:
        """The CSV reader over ``handle``, the header read (or taken from the spec)."""
        spec = self.spec
        reader = csv.reader(
            handle,
            delimiter=spec.delimiter,
            quotechar=spec.quote,
            escapechar=spec.escape,
            quoting=csv.QUOTE_NONE if spec.quoting == "none" else csv.QUOTE_MINIMAL,
        )
        self.header = list(spec.columns) if spec.columns else next(reader, [])
        return reader

    def _csv_rows(self) -> Iterator[tuple[int, Row]]:
        number = 0
        try:
            with open_text(self.path, self.spec.encoding) as handle:
                reader = self.csv_header(handle)
                width = len(self.header)
                yield 0, self.header  # row 0: the header, so the caller can resolve columns
                for number, row in enumerate(reader, 1):
                    if len(row) != width:
                        if not row:  # a blank line
                            continue
                        raise ConfigError(
                            f"{self.path} row {number}: {len(row)} cells, the header has "
                            f"{width} (delimiter {self.spec.delimiter!r}?)"
                        )
                    yield number, row
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"{self.path} at or after row {number + 1}: not {self.spec.encoding} "
                f"({exc.reason}); set file: {{encoding: ...}} in the mapping (latin-1, cp1252)"
            ) from None
        except csv.Error as exc:
            raise ConfigError(f"{self.path} row {number + 1}: {exc}") from None

    def _parquet_header(self) -> list[str]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        except pa.ArrowException as exc:
            raise ConfigError(f"{self.path}: not a readable Parquet file ({exc})") from None

    def _parquet_rows(self) -> Iterator[tuple[int, Row]]:
        import pyarrow.parquet as pq

        yield 0, self.header
        columns = [c for c in self.header if self.wanted is None or c in self.wanted]
        at = [self.header.index(c) for c in columns]
        width = len(self.header)
        number = 0
        for batch in pq.ParquetFile(self.path).iter_batches(_BATCH, columns=columns):
            cells = [[_text(v) for v in batch.column(i).to_pylist()] for i in range(len(at))]
            for values in zip(*cells, strict=True):
                number += 1
                row = [""] * width  # columns the mapping never reads stay empty
                for i, value in zip(at, values, strict=True):
                    row[i] = value
                yield number, row


def _text(value: Any) -> str:
    """A Parquet value as the text a CSV would hold (null: an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)
